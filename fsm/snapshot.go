package fsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// Snapshot format: one JSON header line {"Format":2,"Index":N}, then one frame
// per row — its table number (one byte), the length of its payload as a
// uvarint, the payload — tables in table order, rows in key order, and a 0
// byte at the end so a truncated snapshot is detected. A row's payload is its
// JSON, or, for a frozen row, its table number has frozenFrame set and the
// payload is the frozen row itself (frozen_codec.go).
//
// Format 1 (before frozen rows and one history row per job) is still read:
// its history has a row per event, {"Seq":n,"Event":{…}}, in order.
const (
	snapshotFormat   = 2
	snapshotFormatV1 = 1
)

// maxRecordSize bounds one row so a corrupt length cannot make Restore
// allocate without limit.
const maxRecordSize = 256 << 20

type snapshotHeader struct {
	Format int    `json:"Format"`
	Index  uint64 `json:"Index"`
}

type snapshot struct {
	txn   *memtab.Txn
	index uint64
}

// Persist streams the state captured by FSM.Snapshot; Apply may run
// meanwhile.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.txn, s.index); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot at index %d: %w", s.index, err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}

func writeSnapshot(w io.Writer, txn *memtab.Txn, index uint64) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	header, err := json.Marshal(snapshotHeader{Format: snapshotFormat, Index: index})
	if err != nil {
		return err
	}
	if _, err := bw.Write(append(header, '\n')); err != nil {
		return err
	}
	if err := writeTables(bw, txn, true); err != nil {
		return err
	}
	return bw.Flush()
}

// writeTables writes every row of every table (the index table only when
// withIndex is set) as frames, then the end mark. The digest hashes exactly
// these bytes, without the index table.
func writeTables(w io.Writer, txn *memtab.Txn, withIndex bool) error {
	var prefix [1 + binary.MaxVarintLen64]byte
	for t := tableJobs; t < tableCount; t++ {
		if t == tableIndex && !withIndex {
			continue
		}
		it, err := txn.Get(t.String(), "id")
		if err != nil {
			return fmt.Errorf("read %s: %w", t, err)
		}
		var buf []byte
		for raw := it.Next(); raw != nil; raw = it.Next() {
			tb := byte(t)
			b, frozen := encodeFrozen(buf[:0], raw)
			if frozen {
				buf, tb = b, tb|frozenFrame
			} else if b, err = json.Marshal(raw); err != nil {
				return fmt.Errorf("encode %s row: %w", t, err)
			}
			prefix[0] = tb
			n := 1 + binary.PutUvarint(prefix[1:], uint64(len(b)))
			if _, err := w.Write(prefix[:n]); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
	}
	_, err := w.Write([]byte{0})
	return err
}

var (
	errTruncated      = errors.New("snapshot is truncated")
	errRestoreStopped = errors.New("restore stopped")
)

// readSnapshot builds a new database from a snapshot stream; frozen rows
// keep codec for reading.
func readSnapshot(r io.Reader, codec *blobCodec) (*memtab.MemDB, uint64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, 0, fmt.Errorf("read header: %w", err)
	}
	var h snapshotHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, 0, fmt.Errorf("read header: %w", err)
	}
	if h.Format != snapshotFormat && h.Format != snapshotFormatV1 {
		return nil, 0, fmt.Errorf("unknown snapshot format %d (this binary reads formats %d and %d)", h.Format, snapshotFormatV1, snapshotFormat)
	}

	db := newDB()
	txn := db.Txn(true)
	defer txn.Abort()
	txn.Unwatched() // nobody reads db until Restore swaps it in
	var rows [tableCount]int
	var buf []byte
	v1History := &v1HistoryRows{}
	// Format 1's history rows are folded in order, so it loads on one
	// goroutine; format 2 loads its tables in parallel.
	var loader *tableLoader
	if h.Format != snapshotFormatV1 {
		loader = newTableLoader(txn, codec)
		defer func() {
			if loader != nil {
				loader.abort(errRestoreStopped)
			}
		}()
	}
	for {
		tb, err := br.ReadByte()
		if err != nil {
			return nil, 0, unexpectedEOF(err)
		}
		if tb == 0 {
			break
		}
		frozen := tb&frozenFrame != 0 && h.Format != snapshotFormatV1
		t := tableID(tb &^ frozenFrame)
		if !frozen {
			t = tableID(tb)
		}
		if t >= tableCount {
			return nil, 0, fmt.Errorf("unknown table %d in snapshot", tb)
		}
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, 0, unexpectedEOF(err)
		}
		if n > maxRecordSize {
			return nil, 0, fmt.Errorf("%s row of %d bytes exceeds the %d byte limit", t, n, maxRecordSize)
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, 0, unexpectedEOF(err)
		}
		if loader != nil {
			if err := loader.add(t, frozen, buf); err != nil {
				return nil, 0, err
			}
			continue
		}
		// Format 1 has no frozen rows.
		var rec any
		if t == tableHistory {
			rec, err = v1History.add(buf)
		} else {
			rec, err = decodeRow(t, buf)
		}
		if err != nil {
			return nil, 0, err
		}
		if rec == nil {
			continue // a v1 event added to its job's row
		}
		if err := txn.Insert(t.String(), rec); err != nil {
			return nil, 0, fmt.Errorf("load %s row: %w", t, err)
		}
		rows[t]++
	}
	if loader != nil {
		loaded, err := loader.wait()
		loader = nil
		if err != nil {
			return nil, 0, err
		}
		for t, n := range loaded {
			rows[t] += n
		}
	}
	if err := fixIndexRows(txn, rows, h.Index); err != nil {
		return nil, 0, err
	}
	if err := rebuildUsage(txn); err != nil {
		return nil, 0, err
	}
	txn.Commit()
	return db, h.Index, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return fmt.Errorf("read snapshot: %w", err)
}

// decodeRow decodes one row and checks it has what its indexes read.
func decodeRow(t tableID, b []byte) (any, error) {
	var rec any
	var ok func() bool
	switch t {
	case tableJobs:
		r := new(jobRecord)
		rec, ok = r, func() bool { return r.Job != nil }
	case tableExecutions:
		r := new(execRecord)
		rec, ok = r, func() bool { return r.Execution != nil }
	case tableEvals:
		rec, ok = new(api.Evaluation), func() bool { return true }
	case tableHistory:
		r := new(historyRecord)
		rec, ok = r, func() bool { return r.JobID != "" && !slices.Contains(r.Events, nil) }
	case tableNodes:
		r := new(nodeRecord)
		rec, ok = r, func() bool { return r.Node != nil }
	case tableTokens:
		rec, ok = new(tokenRecord), func() bool { return true }
	case tableIndex:
		rec, ok = new(indexRecord), func() bool { return true }
	default:
		if rec, ok = newACLRow(t); rec == nil {
			return nil, fmt.Errorf("unknown table %d in snapshot", t)
		}
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("decode %s row: %w", t, err)
	}
	if !ok() {
		return nil, fmt.Errorf("decode %s row: empty row", t)
	}
	return rec, nil
}

// fixIndexRows recounts every table's rows (the counts are derived, so a
// restore heals them) and checks the applied index matches the header.
func fixIndexRows(txn *memtab.Txn, rows [tableCount]int, index uint64) error {
	for t := tableJobs; t < tableCount; t++ {
		if t == tableIndex {
			continue
		}
		rec, ok, err := lookup[*indexRecord](txn, tableIndex, "id", t.String())
		if err != nil {
			return err
		}
		if !ok && rows[t] == 0 {
			continue
		}
		fixed := &indexRecord{Table: t.String(), Rows: rows[t]}
		if ok {
			fixed.Index = rec.Index
		}
		if err := txn.Insert(tableIndex.String(), fixed); err != nil {
			return fmt.Errorf("load index of %s: %w", t, err)
		}
	}
	applied, ok, err := lookup[*indexRecord](txn, tableIndex, "id", appliedKey)
	if err != nil {
		return err
	}
	switch {
	case ok && applied.Index > index:
		return fmt.Errorf("snapshot header says index %d but its state was applied up to %d", index, applied.Index)
	case !ok || applied.Index < index:
		// A rebased backup (RebaseSnapshot): the header's index wins.
		if err := txn.Insert(tableIndex.String(), &indexRecord{Table: appliedKey, Index: index}); err != nil {
			return fmt.Errorf("set applied index: %w", err)
		}
	}
	return nil
}

// RebaseSnapshot returns a snapshot (as written by Persist) whose index is
// at least minIndex, and that index. Restoring a backup into another cluster
// goes through Raft at an index above the cluster's log; the state's own
// index must not fall behind it, or readers waiting for an index would wait
// on one the store never reports.
func RebaseSnapshot(data []byte, minIndex uint64) ([]byte, uint64, error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return nil, 0, errors.New("snapshot has no header line")
	}
	var h snapshotHeader
	if err := json.Unmarshal(data[:nl], &h); err != nil {
		return nil, 0, fmt.Errorf("snapshot header: %w", err)
	}
	if h.Format != snapshotFormat {
		return nil, 0, fmt.Errorf("snapshot format %d is not %d", h.Format, snapshotFormat)
	}
	if h.Index >= minIndex {
		return data, h.Index, nil
	}
	h.Index = minIndex
	header, err := json.Marshal(h)
	if err != nil {
		return nil, 0, err
	}
	out := make([]byte, 0, len(header)+len(data)-nl)
	out = append(out, header...)
	return append(out, data[nl:]...), h.Index, nil
}

// v1HistoryRows turns format 1's history, a row per event in (job, seq)
// order, into a row per job: the event goes into the current job's row
// (returned, so it is stored once and then grown in place before the
// transaction commits), or starts the next job's.
type v1HistoryRows struct {
	cur *historyRecord
}

func (v *v1HistoryRows) add(b []byte) (any, error) {
	var old struct {
		Seq   uint64          `json:"Seq"`
		Event *api.JobHistory `json:"Event"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return nil, fmt.Errorf("decode history row: %w", err)
	}
	if old.Event == nil || old.Event.JobID == "" {
		return nil, fmt.Errorf("decode history row: empty row")
	}
	if v.cur != nil && v.cur.JobID == old.Event.JobID {
		v.cur.Events = append(v.cur.Events, old.Event)
		return nil, nil
	}
	v.cur = &historyRecord{JobID: old.Event.JobID, Events: []*api.JobHistory{old.Event}}
	return v.cur, nil
}
