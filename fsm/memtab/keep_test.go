package memtab

import (
	"slices"
	"strings"
	"testing"
)

func TestKeepKeys(t *testing.T) {
	idx := func(name string, stable bool, key func(r *row) (bool, string)) *IndexSchema {
		return &IndexSchema{Name: name, Unique: true, AllowMissing: name != "id", Stable: stable, Indexer: single{fn{one: key}}}
	}
	db, err := NewMemDB(&DBSchema{Tables: map[string]*TableSchema{
		"rows": {Name: "rows", Indexes: map[string]*IndexSchema{
			"id":    idx("id", true, func(r *row) (bool, string) { return true, r.ID + "\x00" }),
			"group": idx("group", true, func(r *row) (bool, string) { return true, r.Group + "\x00" + r.ID + "\x00" }),
			"live":  idx("live", false, func(r *row) (bool, string) { return r.Live, r.ID + "\x00" }),
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rows []*row
		want []string // keys handed to keep, in order
	}{
		{"a new row keeps its stable keys", []*row{{ID: "a", Group: "g", Live: true}}, []string{"a\x00", "g\x00a\x00"}},
		{"an update that keeps them keeps nothing", []*row{{ID: "a", Group: "g", Live: false}}, nil},
		// A stable key that changes anyway is kept again (its old copy is
		// wasted, never wrong).
		{"an update that moves one keeps the new one", []*row{{ID: "a", Group: "h", Live: true}}, []string{"h\x00a\x00"}},
		{"without a copier nothing is kept", []*row{{ID: "b", Group: "g"}}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			txn := db.Txn(true)
			if i != len(tests)-1 {
				txn.KeepKeys(func(table, key string) string {
					if table != "rows" {
						t.Errorf("keep called for table %q", table)
					}
					got = append(got, key)
					return strings.Clone(key)
				})
			}
			for _, r := range tt.rows {
				if err := txn.Insert("rows", r); err != nil {
					t.Fatal(err)
				}
			}
			txn.Commit()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("kept %q, want %q", got, tt.want)
			}
			for _, r := range tt.rows {
				read := db.Txn(false)
				if o, err := read.First("rows", "group", r.Group, r.ID); err != nil || o == nil || o.(*row) != r {
					t.Fatalf("row %s by group: %v, %v", r.ID, o, err)
				}
				if o, err := read.First("rows", "id", r.ID); err != nil || o == nil || o.(*row) != r {
					t.Fatalf("row %s by id: %v, %v", r.ID, o, err)
				}
			}
		})
	}
}
