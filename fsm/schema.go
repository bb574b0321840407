package fsm

import (
	"encoding/binary"
	"fmt"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// tableID numbers the tables. The numbers are part of the snapshot format and
// fix the order the digest walks the tables in: only ever append.
type tableID uint8

const (
	tableJobs tableID = iota + 1
	tableExecutions
	tableEvals
	tableHistory
	tableNodes
	tableTokens
	tableIndex
	// ACL tables (apply_acl.go). They come after the index table, so every
	// loop over the data tables skips tableIndex rather than stopping at it.
	tableACLTokens
	tableACLMeta
	tableCount // one past the last table
)

var tableNames = [tableCount]string{
	tableJobs:       "jobs",
	tableExecutions: "executions",
	tableEvals:      "evals",
	tableHistory:    "history",
	tableNodes:      "nodes",
	tableTokens:     "idempotency",
	tableIndex:      "index",
	tableACLTokens:  "acl_tokens",
	tableACLMeta:    "acl_meta",
}

func (t tableID) String() string {
	if t == 0 || t >= tableCount {
		return fmt.Sprintf("table(%d)", uint8(t))
	}
	return tableNames[t]
}

// appliedKey is the index-table row holding the last applied raft index.
const appliedKey = "applied"

// Records wrap the api objects with the bookkeeping the store needs, so the
// wire types stay exactly upstream's. Records are immutable once inserted.
// Job is nil when the row is frozen (frozen.go): read it with job() and the
// indexed fields with head().
type jobRecord struct {
	Job         *api.Job `json:"Job"`
	CreateIndex uint64   `json:"CreateIndex"`
	ModifyIndex uint64   `json:"ModifyIndex"`
	frozen      *frozenJob
}

// Execution is nil when the row is frozen: read it with exec() and the
// indexed fields with head().
type execRecord struct {
	Execution   *api.Execution `json:"Execution"`
	CreateIndex uint64         `json:"CreateIndex"`
	ModifyIndex uint64         `json:"ModifyIndex"`
	frozen      *frozenExec
}

type nodeRecord struct {
	Node        *api.NodeInfo `json:"Node"`
	CreateIndex uint64        `json:"CreateIndex"`
	ModifyIndex uint64        `json:"ModifyIndex"`
}

// indexRecord holds, per table, the raft index of its last change and its row
// count (so metrics need no scan); the "applied" row holds the last applied
// raft index.
type indexRecord struct {
	Table string `json:"Table"`
	Index uint64 `json:"Index"`
	Rows  int    `json:"Rows"`
}

// Key encoding: strings end in a NUL so "j-1" is not a prefix match of
// "j-10" in exact lookups; integers are big-endian, int64 with the sign bit
// flipped, so byte order is numeric order.
func appendString(b []byte, s string) []byte { return append(append(b, s...), 0) }

func appendUint64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func appendInt64(b []byte, v int64) []byte { return appendUint64(b, uint64(v)^(1<<63)) }

type keyPart uint8

const (
	partString keyPart = iota
	partInt64
	partUint64
)

// keyIndexer is a memtab indexer built from a key function instead of
// reflection: Apply runs on every replica for every write, and reflection
// based indexers cost several allocations per field.
type keyIndexer struct {
	parts []keyPart
	key   func(obj any) ([]byte, bool)
	// partialPrefix makes PrefixFromArgs leave the last string open, for
	// "unique prefix" ID lookups.
	partialPrefix bool
}

func (k *keyIndexer) FromObject(obj any) (bool, []byte, error) {
	b, ok := k.key(obj)
	return ok, b, nil
}

// FromArgs accepts a leading subset of the key parts, which memtab's Get then
// treats as a prefix and LowerBound as a start key.
func (k *keyIndexer) FromArgs(args ...any) ([]byte, error) { return k.encode(args, false) }

func (k *keyIndexer) PrefixFromArgs(args ...any) ([]byte, error) {
	return k.encode(args, k.partialPrefix)
}

func (k *keyIndexer) encode(args []any, openLast bool) ([]byte, error) {
	if len(args) > len(k.parts) {
		return nil, fmt.Errorf("index takes at most %d arguments, got %d", len(k.parts), len(args))
	}
	var b []byte
	for i, a := range args {
		switch k.parts[i] {
		case partString:
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("argument %d: want string, got %T", i, a)
			}
			if openLast && i == len(args)-1 {
				b = append(b, s...)
			} else {
				b = appendString(b, s)
			}
		case partInt64:
			v, ok := a.(int64)
			if !ok {
				return nil, fmt.Errorf("argument %d: want int64, got %T", i, a)
			}
			b = appendInt64(b, v)
		case partUint64:
			v, ok := a.(uint64)
			if !ok {
				return nil, fmt.Errorf("argument %d: want uint64, got %T", i, a)
			}
			b = appendUint64(b, v)
		}
	}
	return b, nil
}

func index(name string, k *keyIndexer) *memtab.IndexSchema {
	// Every key ends in the row's own ID, so keys are unique by construction
	// and memtab stores each key once.
	return &memtab.IndexSchema{Name: name, Unique: true, Indexer: k}
}

// stableIndex is an index whose key a row keeps for life: its keys are
// packed with the row's frozen bytes (applyCtx.keep).
func stableIndex(name string, k *keyIndexer) *memtab.IndexSchema {
	s := index(name, k)
	s.Stable = true
	return s
}

// appendedIndex marks s as appended to within ranges of its keys (memtab's
// IndexSchema.Appended).
func appendedIndex(s *memtab.IndexSchema) *memtab.IndexSchema {
	s.Appended = true
	return s
}

func optionalIndex(name string, k *keyIndexer) *memtab.IndexSchema {
	s := index(name, k)
	s.AllowMissing = true
	return s
}

func jobKey(f func(b []byte, j jobHead) []byte) func(any) ([]byte, bool) {
	return func(obj any) ([]byte, bool) {
		r, ok := obj.(*jobRecord)
		if !ok {
			return nil, false
		}
		return f(make([]byte, 0, 64), r.head()), true
	}
}

func execKey(f func(b []byte, e execHead, r *execRecord) []byte) func(any) ([]byte, bool) {
	return func(obj any) ([]byte, bool) {
		r, ok := obj.(*execRecord)
		if !ok {
			return nil, false
		}
		return f(make([]byte, 0, 96), r.head(), r), true
	}
}

func evalKey(f func(b []byte, e *api.Evaluation) []byte) func(any) ([]byte, bool) {
	return func(obj any) ([]byte, bool) {
		e, ok := obj.(*api.Evaluation)
		if !ok {
			return nil, false
		}
		return f(make([]byte, 0, 96), e), true
	}
}

// Key layouts, named by their parts.
var (
	strID      = []keyPart{partString}
	strTimeID  = []keyPart{partString, partInt64, partString}
	timeID     = []keyPart{partInt64, partString}
	strStr     = []keyPart{partString, partString}
	strUintStr = []keyPart{partString, partUint64, partString}
)

func schema() *memtab.DBSchema {
	tables := []*memtab.TableSchema{
		{
			Name: tableJobs.String(),
			Indexes: indexes(
				stableIndex("id", &keyIndexer{parts: strID, partialPrefix: true, key: jobKey(func(b []byte, j jobHead) []byte {
					return appendString(b, j.ID)
				})}),
				stableIndex("create", &keyIndexer{parts: timeID, key: jobKey(func(b []byte, j jobHead) []byte {
					return appendString(appendInt64(b, j.CreateTime), j.ID)
				})}),
				index("modify", &keyIndexer{parts: timeID, key: jobKey(func(b []byte, j jobHead) []byte {
					return appendString(appendInt64(b, j.ModifyTime), j.ID)
				})}),
				// Namespace listings in the default order; other orders with a
				// namespace filter scan the global index (rare, and every job
				// index costs every write).
				stableIndex("ns_create", &keyIndexer{parts: strTimeID, key: jobKey(func(b []byte, j jobHead) []byte {
					return appendString(appendInt64(appendString(b, j.Namespace), j.CreateTime), j.ID)
				})}),
				// Live jobs by type: a joining node needs the active daemon
				// jobs without a scan of every job ever submitted.
				optionalIndex("live_type", &keyIndexer{parts: strStr, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*jobRecord)
					if !ok {
						return nil, false
					}
					h := r.head()
					if h.State.IsTerminal() {
						return nil, false
					}
					return appendString(appendString(make([]byte, 0, 64), h.Type), h.ID), true
				}}),
				labelIndexSchema(),
			),
		},
		{
			Name: tableExecutions.String(),
			Indexes: indexes(
				stableIndex("id", &keyIndexer{parts: strID, partialPrefix: true, key: execKey(func(b []byte, e execHead, _ *execRecord) []byte {
					return appendString(b, e.ID)
				})}),
				stableIndex("job", &keyIndexer{parts: strTimeID, key: execKey(func(b []byte, e execHead, _ *execRecord) []byte {
					return appendString(appendInt64(appendString(b, e.JobID), e.CreateTime), e.ID)
				})}),
				// A node's executions by modify index: the compute long poll
				// asks for what changed after the index it last saw.
				appendedIndex(index("node_modify", &keyIndexer{parts: strUintStr, key: execKey(func(b []byte, e execHead, r *execRecord) []byte {
					return appendString(appendUint64(appendString(b, e.NodeID), r.ModifyIndex), e.ID)
				})})),
				// Only non-terminal executions: what holds capacity on a node,
				// found without walking the node's whole history.
				optionalIndex("active", &keyIndexer{parts: strStr, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*execRecord)
					if !ok {
						return nil, false
					}
					e := r.head()
					if e.Terminal {
						return nil, false
					}
					return appendString(appendString(make([]byte, 0, 96), e.NodeID), e.ID), true
				}}),
			),
		},
		{
			Name: tableEvals.String(),
			Indexes: indexes(
				index("id", &keyIndexer{parts: strID, partialPrefix: true, key: evalKey(func(b []byte, e *api.Evaluation) []byte {
					return appendString(b, e.ID)
				})}),
				index("job", &keyIndexer{parts: strTimeID, key: evalKey(func(b []byte, e *api.Evaluation) []byte {
					return appendString(appendInt64(appendString(b, e.JobID), e.CreateTime), e.ID)
				})}),
				index("status", &keyIndexer{parts: strTimeID, key: evalKey(func(b []byte, e *api.Evaluation) []byte {
					return appendString(appendInt64(appendString(b, e.Status), e.CreateTime), e.ID)
				})}),
			),
		},
		{
			Name: tableHistory.String(),
			Indexes: indexes(
				stableIndex("id", &keyIndexer{parts: strID, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*historyRecord)
					if !ok {
						return nil, false
					}
					return appendString(make([]byte, 0, 48), r.JobID), true
				}}),
			),
		},
		{
			Name: tableNodes.String(),
			Indexes: indexes(
				index("id", &keyIndexer{parts: strID, partialPrefix: true, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*nodeRecord)
					if !ok {
						return nil, false
					}
					return appendString(nil, r.Node.NodeID), true
				}}),
			),
		},
		{
			Name: tableTokens.String(),
			Indexes: indexes(
				index("id", &keyIndexer{parts: strID, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*tokenRecord)
					if !ok {
						return nil, false
					}
					return r.idKey(), true
				}}),
				stableIndex("expiry", &keyIndexer{parts: timeID, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*tokenRecord)
					if !ok {
						return nil, false
					}
					return appendString(appendInt64(make([]byte, 0, 9+r.tokLen), r.Expiry), r.token()), true
				}}),
			),
		},
		{
			Name: tableIndex.String(),
			Indexes: indexes(
				index("id", &keyIndexer{parts: strID, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*indexRecord)
					if !ok {
						return nil, false
					}
					return appendString(nil, r.Table), true
				}}),
			),
		},
	}
	tables = append(tables, usageTableSchema())
	tables = append(tables, aclTableSchemas()...)
	s := &memtab.DBSchema{Tables: make(map[string]*memtab.TableSchema, len(tables))}
	for _, t := range tables {
		s.Tables[t.Name] = t
	}
	return s
}

func indexes(list ...*memtab.IndexSchema) map[string]*memtab.IndexSchema {
	m := make(map[string]*memtab.IndexSchema, len(list))
	for _, ix := range list {
		m[ix.Name] = ix
	}
	return m
}

// newDB builds an empty database. The schema is static, so an error here is
// a bug that the package tests catch.
func newDB() *memtab.MemDB {
	db, err := memtab.NewMemDB(schema())
	if err != nil {
		panic(fmt.Sprintf("fsm: invalid memtab schema: %v", err))
	}
	return db
}
