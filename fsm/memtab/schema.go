// Package memtab owns the state store's storage engine: ordered in-memory
// tables with secondary indexes, one writer and any number of readers, each
// reader on an immutable snapshot. Its API is go-memdb's (tables and indexes
// named by string, Txn with Insert, Delete, First, Get, LowerBound, …), so the
// state machine reads the same; what differs is the price of a row. go-memdb
// keeps every index in an immutable radix tree whose every node and leaf owns
// a watch channel, about 350–400 bytes per index entry whether or not anyone
// ever waits, and a stored job has a dozen entries. memtab keeps each index
// in a copy-on-write B-tree (google/btree, forked in internal/btree for how
// a full leaf splits) of (key, row) pairs, about 80 bytes per entry, and
// creates a watch channel only when a reader asks for one (a blocking
// query), keyed by the prefix it read.
package memtab

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrNotFound is returned by Delete for a row that is not in the table.
var ErrNotFound = errors.New("not found")

// Indexer turns query arguments into a key (or key prefix).
type Indexer interface {
	FromArgs(args ...any) ([]byte, error)
}

// SingleIndexer gives a row's one key in an index; ok false leaves the row
// out of the index (only allowed with AllowMissing). The returned bytes
// become the stored key as they are: an indexer returns fresh bytes and
// never touches them again.
type SingleIndexer interface {
	FromObject(obj any) (ok bool, key []byte, err error)
}

// MultiIndexer gives a row's keys in an index that holds it several times,
// each in fresh bytes as SingleIndexer's.
type MultiIndexer interface {
	FromObject(obj any) (ok bool, keys [][]byte, err error)
}

// PrefixIndexer serves an index queried as "<name>_prefix": its keys may be
// left open at the end (a unique-prefix ID lookup).
type PrefixIndexer interface {
	PrefixFromArgs(args ...any) ([]byte, error)
}

// IndexSchema describes one index. Every key must be unique within its index
// (memtab stores a key once); the "id" index is the table's primary key.
type IndexSchema struct {
	Name         string
	Unique       bool
	AllowMissing bool
	Indexer      Indexer
	// Stable says a row's keys in this index do not change while the row
	// lives, so a write Txn's KeepKeys copier may store them.
	Stable bool
	// Appended says new keys arrive in ascending order within ranges of
	// the index (a node's executions by modify index, a label's jobs by
	// creation), so its leaves split where an insert lands and stay full.
	// Keys appended to the whole index need not say so; random keys must
	// not (their leaves would fill to half, not three quarters).
	Appended bool
}

// TableSchema names a table and its indexes; it must have an "id" index.
type TableSchema struct {
	Name    string
	Indexes map[string]*IndexSchema
}

// DBSchema is the set of tables.
type DBSchema struct {
	Tables map[string]*TableSchema
}

const primary = "id"

// compiled is a schema with tables and indexes numbered, the primary index
// first in each table.
type compiled struct {
	tables []*tableDef
	byName map[string]int
}

type tableDef struct {
	name    string
	indexes []*indexDef
	byName  map[string]int
}

type indexDef struct {
	name   string
	single SingleIndexer
	multi  MultiIndexer
	args   Indexer
	prefix PrefixIndexer
	// allowMissing rows may be absent from the index.
	allowMissing bool
	stable       bool
	appended     bool
}

func compile(s *DBSchema) (*compiled, error) {
	if s == nil || len(s.Tables) == 0 {
		return nil, errors.New("schema has no tables")
	}
	c := &compiled{byName: make(map[string]int, len(s.Tables))}
	for name, ts := range s.Tables {
		if ts == nil || ts.Name != name {
			return nil, fmt.Errorf("table %q: name mismatch", name)
		}
		id, ok := ts.Indexes[primary]
		if !ok {
			return nil, fmt.Errorf("table %q has no %q index", name, primary)
		}
		if id.AllowMissing {
			return nil, fmt.Errorf("table %q: the %q index cannot allow missing rows", name, primary)
		}
		td := &tableDef{name: name, byName: make(map[string]int, len(ts.Indexes))}
		add := func(is *IndexSchema) error {
			if is == nil || is.Indexer == nil {
				return fmt.Errorf("table %q: index without an indexer", name)
			}
			d := &indexDef{name: is.Name, args: is.Indexer, allowMissing: is.AllowMissing, stable: is.Stable, appended: is.Appended}
			d.single, _ = is.Indexer.(SingleIndexer)
			d.multi, _ = is.Indexer.(MultiIndexer)
			d.prefix, _ = is.Indexer.(PrefixIndexer)
			if d.single == nil && d.multi == nil {
				return fmt.Errorf("table %q index %q: indexer reads no object", name, is.Name)
			}
			td.byName[is.Name] = len(td.indexes)
			td.indexes = append(td.indexes, d)
			return nil
		}
		if err := add(id); err != nil {
			return nil, err
		}
		if id.Indexer != nil {
			if _, ok := id.Indexer.(SingleIndexer); !ok {
				return nil, fmt.Errorf("table %q: the %q index must give one key per row", name, primary)
			}
		}
		for iname, is := range ts.Indexes {
			if iname == primary {
				continue
			}
			if is == nil || is.Name != iname {
				return nil, fmt.Errorf("table %q index %q: name mismatch", name, iname)
			}
			if err := add(is); err != nil {
				return nil, err
			}
		}
		c.byName[name] = len(c.tables)
		c.tables = append(c.tables, td)
	}
	return c, nil
}

// keys returns the keys of obj in index d (nil when the row is not in it).
func (d *indexDef) keys(obj any) ([]string, error) {
	if d.single != nil {
		ok, k, err := d.single.FromObject(obj)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", d.name, err)
		}
		if !ok {
			if !d.allowMissing {
				return nil, fmt.Errorf("index %s: row has no key", d.name)
			}
			return nil, nil
		}
		return []string{keyString(k)}, nil
	}
	ok, ks, err := d.multi.FromObject(obj)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", d.name, err)
	}
	if !ok || len(ks) == 0 {
		if !d.allowMissing {
			return nil, fmt.Errorf("index %s: row has no key", d.name)
		}
		return nil, nil
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = keyString(k)
	}
	return out, nil
}

// keyString makes a key of an indexer's bytes, without copying them when
// they nearly fill their buffer: every row write computes the row's keys
// (and its old version's, to compare), and a copy of each was half of what
// a write allocated. A key in a roomy buffer is copied, since a stored key
// keeps its whole buffer.
func keyString(b []byte) string {
	if cap(b)-len(b) >= 16 {
		return string(b)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
