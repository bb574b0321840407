package fsm

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"unique"

	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/zstd"
	"github.com/shoal-io/shoal/api"
)

// Frozen records. A job that has ended (and an execution that has ended, and
// the history of an ended job) will be read rarely and changed almost never,
// yet it is what the store holds by the hundred thousand. Such a row is kept
// frozen: the few fields indexes and list filters read, plus the rest as
// zstd-compressed JSON with a dictionary of typical rows (a completed noop
// job, its execution and its history: about 4 KB of JSON, 300 bytes frozen).
// Reads decode it on demand; a change decodes it, and the row is frozen
// again when the transaction commits (applyCtx.freeze).
//
// Freezing is decided by the row's own state at commit, so every replica
// freezes the same rows to the same bytes, and snapshots (and the digest,
// which hashes snapshot frames) carry frozen rows as they are.

// blobCodec compresses and decompresses frozen rows. EncodeAll and DecodeAll
// are safe for concurrent use.
type blobCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
	// scratch holds *[]byte buffers EncodeAll appends to: the output grows
	// by doubling, and a blob kept in the grown slice would hold up to twice
	// its size for as long as the row lives.
	scratch sync.Pool
}

// blobDictID names the dictionary inside every blob's frame header: a blob
// made with another dictionary is refused rather than misread. Change the
// dictionary only together with this ID (and keep reading the old one).
const blobDictID = 1

const blobWindow = 64 << 10

func newBlobCodec() *blobCodec {
	dict := []byte(frozenDictionary)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(blobDictID, dict),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true),
		// A row is a few kilobytes: a 64 KiB window loses nothing, and the
		// default 8 MiB one kept 8 MB of match history per replica.
		zstd.WithWindowSize(blobWindow))
	if err != nil {
		panic(fmt.Sprintf("fsm: zstd encoder: %v", err)) // static options: a bug the tests catch
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(blobDictID, dict),
		zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxRecordSize))
	if err != nil {
		panic(fmt.Sprintf("fsm: zstd decoder: %v", err))
	}
	c := &blobCodec{enc: enc, dec: dec}
	c.scratch.New = func() any { b := make([]byte, 0, 4096); return &b }
	return c
}

// freeze returns v's JSON compressed, carved from a (it is kept for as long
// as the row lives).
func (c *blobCodec) freeze(a *arena, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	scratch := c.scratch.Get().(*[]byte)
	out := c.enc.EncodeAll(raw, (*scratch)[:0])
	blob := a.bytes(out)
	*scratch = out
	c.scratch.Put(scratch)
	return blob, nil
}

// thaw decodes a frozen row into v. Lists thaw every row they return, so
// this is most of what a read costs and allocates: the JSON is decompressed
// into pooled scratch, and decoded by goccy/go-json (as commands are),
// which takes its own copy of the input and is twice as fast as
// encoding/json here, allocating less: a reader at full speed brings fewer
// collection cycles into its requests.
func (c *blobCodec) thaw(blob []byte, v any) error {
	scratch := c.scratch.Get().(*[]byte)
	defer c.scratch.Put(scratch)
	raw, err := c.dec.DecodeAll(blob, (*scratch)[:0])
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	*scratch = raw
	return gojson.Unmarshal(raw, v)
}

// jobHead is what indexes and list filters read of a job, hot or frozen.
type jobHead struct {
	ID, Namespace, Type    string
	State                  api.JobStateType
	CreateTime, ModifyTime int64
}

// frozenJob is a terminal job at rest. Labels are kept as sorted key, value
// pairs so selectors and the label index need no thaw.
type frozenJob struct {
	jobHead
	labels pairLabels
	blob   []byte
	codec  *blobCodec
}

func (r *jobRecord) head() jobHead {
	if r.frozen != nil {
		return r.frozen.jobHead
	}
	j := r.Job
	return jobHead{ID: j.ID, Namespace: j.Namespace, Type: j.Type, State: j.State.StateType,
		CreateTime: j.CreateTime, ModifyTime: j.ModifyTime}
}

// job returns the job: the stored one when hot (shared: never modify it), a
// fresh copy when frozen.
func (r *jobRecord) job() *api.Job {
	if r.frozen == nil {
		return r.Job
	}
	j := new(api.Job)
	if err := r.frozen.codec.thaw(r.frozen.blob, j); err != nil {
		// Only a corrupt process could get here: answer what the head knows.
		h := r.frozen.jobHead
		return &api.Job{ID: h.ID, Namespace: h.Namespace, Type: h.Type, CreateTime: h.CreateTime, ModifyTime: h.ModifyTime,
			State: api.State[api.JobStateType]{StateType: h.State, Message: "stored job is unreadable: " + err.Error()}}
	}
	return j
}

// labelSet returns the job's labels for selectors.
func (r *jobRecord) labelSet() interface {
	Has(string) bool
	Get(string) string
	Lookup(string) (string, bool)
} {
	if r.frozen != nil {
		return r.frozen.labels
	}
	return mapLabels(r.Job.Labels)
}

type mapLabels map[string]string

func (m mapLabels) Has(k string) bool              { _, ok := m[k]; return ok }
func (m mapLabels) Get(k string) string            { return m[k] }
func (m mapLabels) Lookup(k string) (string, bool) { v, ok := m[k]; return v, ok }
func (p pairLabels) Has(k string) bool             { _, ok := p.Lookup(k); return ok }
func (p pairLabels) Get(k string) string           { v, _ := p.Lookup(k); return v }

// pairLabels holds labels as key, value, key, value…, keys sorted.
type pairLabels []string

func (p pairLabels) Lookup(k string) (string, bool) {
	for i := 0; i+1 < len(p); i += 2 {
		if p[i] == k {
			return p[i+1], true
		}
	}
	return "", false
}

func (r *jobRecord) eachLabel(f func(k, v string)) {
	if r.frozen != nil {
		for i := 0; i+1 < len(r.frozen.labels); i += 2 {
			f(r.frozen.labels[i], r.frozen.labels[i+1])
		}
		return
	}
	for k, v := range r.Job.Labels {
		f(k, v)
	}
}

func (r *jobRecord) isFrozen() bool { return r.frozen != nil }

// freezeJob returns r frozen (r itself when it is frozen already), its
// bytes and its structs taken from a (freezeExec and freezeHistory too).
func freezeJob(c *blobCodec, a *arena, r *jobRecord) (*jobRecord, error) {
	if r.frozen != nil {
		return r, nil
	}
	blob, err := c.freeze(a, r.Job)
	if err != nil {
		return nil, fmt.Errorf("freeze job %s: %w", r.Job.ID, err)
	}
	// Strings are copied: a decoded command's strings point into its whole
	// entry's buffer, which a kept string would keep alive.
	h := r.head()
	h.ID, h.Namespace, h.Type = a.str(h.ID), a.intern(h.Namespace), a.intern(h.Type)
	row := newRow(&a.jobs)
	f := &row.f
	*f = frozenJob{jobHead: h, blob: blob, codec: c}
	if n := len(r.Job.Labels); n > 0 {
		f.labels = make(pairLabels, 0, 2*n)
		for _, k := range slices.Sorted(maps.Keys(r.Job.Labels)) {
			f.labels = append(f.labels, a.str(k), a.str(r.Job.Labels[k]))
		}
	}
	row.rec = jobRecord{frozen: f, CreateIndex: r.CreateIndex, ModifyIndex: r.ModifyIndex}
	return &row.rec, nil
}

// frozenJobRow is a frozen job's record and frozen part in one allocation
// (from the arena's slab when there is one).
type frozenJobRow struct {
	rec jobRecord
	f   frozenJob
}

type frozenExecRow struct {
	rec execRecord
	f   frozenExec
}

type frozenHistoryRow struct {
	rec historyRecord
	f   frozenHistory
}

// execHead is what indexes read of an execution, hot or frozen.
type execHead struct {
	ID, JobID, NodeID string
	CreateTime        int64
	Terminal          bool
}

type frozenExec struct {
	execHead
	blob  []byte
	codec *blobCodec
}

func (r *execRecord) head() execHead {
	if r.frozen != nil {
		return r.frozen.execHead
	}
	e := r.Execution
	return execHead{ID: e.ID, JobID: e.JobID, NodeID: e.NodeID, CreateTime: e.CreateTime, Terminal: e.IsTerminal()}
}

// exec returns the execution: the stored one when hot (shared: never modify
// it), a fresh copy when frozen.
func (r *execRecord) exec() *api.Execution {
	if r.frozen == nil {
		return r.Execution
	}
	e := new(api.Execution)
	if err := r.frozen.codec.thaw(r.frozen.blob, e); err != nil {
		h := r.frozen.execHead
		return &api.Execution{ID: h.ID, JobID: h.JobID, NodeID: h.NodeID, CreateTime: h.CreateTime,
			ComputeState: api.State[api.ExecutionStateType]{StateType: api.ExecutionStateFailed, Message: "stored execution is unreadable: " + err.Error()}}
	}
	return e
}

func freezeExec(c *blobCodec, a *arena, r *execRecord) (*execRecord, error) {
	if r.frozen != nil {
		return r, nil
	}
	blob, err := c.freeze(a, r.Execution)
	if err != nil {
		return nil, fmt.Errorf("freeze execution %s: %w", r.Execution.ID, err)
	}
	h := r.head()
	h.ID, h.JobID, h.NodeID = a.str(h.ID), a.str(h.JobID), shared(h.NodeID)
	row := newRow(&a.execs)
	row.f = frozenExec{execHead: h, blob: blob, codec: c}
	row.rec = execRecord{frozen: &row.f, CreateIndex: r.CreateIndex, ModifyIndex: r.ModifyIndex}
	return &row.rec, nil
}

// historyRecord holds a job's events in order; an event's sequence number
// is its position from 1. Hot, Events holds them decoded (and is replaced,
// never appended to in place: readers may hold the old slice); frozen, blob
// holds their JSON array.
type historyRecord struct {
	JobID  string            `json:"JobID"`
	Events []*api.JobHistory `json:"Events"`
	frozen *frozenHistory
}

type frozenHistory struct {
	count int
	blob  []byte
	codec *blobCodec
}

func (r *historyRecord) events() ([]*api.JobHistory, error) {
	if r.frozen == nil {
		return r.Events, nil
	}
	var evs []*api.JobHistory
	if err := r.frozen.codec.thaw(r.frozen.blob, &evs); err != nil {
		return nil, fmt.Errorf("read history of %s: %w", r.JobID, err)
	}
	return evs, nil
}

func freezeHistory(c *blobCodec, a *arena, r *historyRecord) (*historyRecord, error) {
	if r.frozen != nil {
		return r, nil
	}
	blob, err := c.freeze(a, r.Events)
	if err != nil {
		return nil, fmt.Errorf("freeze history of %s: %w", r.JobID, err)
	}
	row := newRow(&a.hists)
	row.f = frozenHistory{count: len(r.Events), blob: blob, codec: c}
	row.rec = historyRecord{JobID: a.str(r.JobID), frozen: &row.f}
	return &row.rec, nil
}

// shared returns a copy of s that every frozen row naming it shares: a
// node's ID is in every execution it ran. unique keeps one copy while one is
// referenced.
func shared(s string) string { return unique.Make(s).Value() }

// intern returns the shared copy of the few strings most jobs repeat, so a
// hundred thousand frozen jobs do not each hold their own "default"; other
// strings are copied into a.
func (a *arena) intern(s string) string {
	switch s {
	case api.DefaultNamespace:
		return api.DefaultNamespace
	case api.JobTypeBatch:
		return api.JobTypeBatch
	case api.JobTypeService:
		return api.JobTypeService
	case api.JobTypeOps:
		return api.JobTypeOps
	case api.JobTypeDaemon:
		return api.JobTypeDaemon
	}
	return a.str(s)
}
