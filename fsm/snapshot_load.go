package fsm

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/shoal-io/shoal/fsm/memtab"
)

// tableLoader fills a restore's tables in parallel. A snapshot holds its
// tables one after another, and each table has trees of its own, so while
// the reader goes on to the next table a worker is still decoding and
// indexing the rows of the last: the jobs table's five indexes, then the
// executions' three, the history, the tokens. A restore is what a restarted
// or new replica waits for before it serves, and the machine has more than
// one core.
//
// The reader copies frames into chunks (a frame: the frozen flag, the
// payload's length as a uvarint, the payload) and hands each table's chunks
// to that table's worker; a few chunks in flight per table bound the memory.
type tableLoader struct {
	txn   *memtab.Txn
	codec *blobCodec

	work [tableCount]chan []byte
	rows [tableCount]int // each written by its table's worker only
	wg   sync.WaitGroup

	mu  sync.Mutex
	err error

	t     tableID // the table chunk belongs to
	chunk []byte
}

const (
	loadChunkSize = 1 << 20
	loadInFlight  = 4
)

func newTableLoader(txn *memtab.Txn, codec *blobCodec) *tableLoader {
	return &tableLoader{txn: txn, codec: codec}
}

// add queues one row of table t; payload is copied.
func (l *tableLoader) add(t tableID, frozen bool, payload []byte) error {
	if err := l.failed(); err != nil {
		return err
	}
	if t != l.t || len(l.chunk)+len(payload)+1+binary.MaxVarintLen64 > loadChunkSize && len(l.chunk) > 0 {
		l.flush()
		l.t = t
	}
	if l.chunk == nil {
		l.chunk = make([]byte, 0, max(loadChunkSize, len(payload)+1+binary.MaxVarintLen64))
	}
	flag := byte(0)
	if frozen {
		flag = 1
	}
	l.chunk = append(l.chunk, flag)
	l.chunk = binary.AppendUvarint(l.chunk, uint64(len(payload)))
	l.chunk = append(l.chunk, payload...)
	return nil
}

func (l *tableLoader) flush() {
	if len(l.chunk) == 0 {
		return
	}
	t := l.t
	if l.work[t] == nil {
		l.work[t] = make(chan []byte, loadInFlight)
		l.wg.Add(1)
		go l.worker(t, l.work[t])
	}
	l.work[t] <- l.chunk
	l.chunk = nil
}

// wait flushes what is queued, waits for every worker and returns the row
// counts, or the first error.
func (l *tableLoader) wait() ([tableCount]int, error) {
	l.flush()
	for _, ch := range l.work {
		if ch != nil {
			close(ch)
		}
	}
	l.wg.Wait()
	return l.rows, l.failed()
}

// abort stops the workers without waiting for what is queued to load.
func (l *tableLoader) abort(err error) {
	l.fail(err)
	l.chunk = nil
	_, _ = l.wait()
}

func (l *tableLoader) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *tableLoader) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

// worker decodes and inserts table t's rows. memtab lets an unwatched write
// transaction take inserts into different tables at once.
func (l *tableLoader) worker(t tableID, chunks <-chan []byte) {
	defer l.wg.Done()
	a := &arena{}
	for chunk := range chunks {
		if l.failed() != nil {
			continue // drain, so the reader never blocks on a dead worker
		}
		if err := l.load(t, a, chunk); err != nil {
			l.fail(err)
		}
	}
}

func (l *tableLoader) load(t tableID, a *arena, chunk []byte) error {
	for len(chunk) > 0 {
		frozen := chunk[0] == 1
		n, k := binary.Uvarint(chunk[1:])
		payload := chunk[1+k : 1+k+int(n)]
		chunk = chunk[1+k+int(n):]
		var rec any
		var err error
		if frozen {
			rec, err = decodeFrozen(l.codec, a, t, payload)
		} else {
			rec, err = decodeRow(t, payload)
		}
		if err != nil {
			return err
		}
		if err := l.txn.Insert(t.String(), rec); err != nil {
			return fmt.Errorf("load %s row: %w", t, err)
		}
		l.rows[t]++
	}
	return nil
}
