package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawTar writes entries as an uncompressed tar; pax adds PAX records to the
// last entry.
func rawTar(tb testing.TB, pax map[string]string, entries ...tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if i == len(entries)-1 && pax != nil {
			hdr.PAXRecords, hdr.Format = pax, tar.FormatPAX
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil && hdr.Size > 0 {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// sparseTar is a GNU sparse (PAX 0.1) file of 1 TiB whose one data byte
// sits at the start: a 2 KiB archive that a naive extraction unpacks into
// a terabyte of zeros. archive/tar refuses to write GNU.sparse records, so
// they are written under same-length placeholder names and renamed.
func sparseTar(tb testing.TB) []byte {
	b := rawTar(tb, map[string]string{
		"XXX.xxxxxx.map":       "0,1",
		"XXX.xxxxxx.numblocks": "1",
		"XXX.xxxxxx.size":      "1099511627776",
	}, file("huge", "x"))
	for _, k := range []string{"map", "numblocks", "size"} {
		b = bytes.ReplaceAll(b, []byte("XXX.xxxxxx."+k+"="), []byte("GNU.sparse."+k+"="))
	}
	return b
}

func gzipped(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := gz.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzExtractTarGz unpacks arbitrary tar streams (gzipped by the harness, so
// the fuzzer mutates the tar itself) into out/, beside a folder outside/.
// Whatever the archive holds and whether extraction fails or not: nothing is
// written outside out/, no link left in out/ leads out of it on the real
// disk, and out/ never holds more bytes than the archive had (no sparse or
// other amplification).
func FuzzExtractTarGz(f *testing.F) {
	for _, seed := range [][]byte{
		rawTar(f, nil, dir("./"), file("stdout", "hello\n"), file("exitCode", "0"), dir("outputs/"),
			file("outputs/a/b.txt", "deep"), symlink("latest", "outputs/a"), file("latest/c.txt", "through a link")),
		rawTar(f, nil, file("../escape", "x")),
		rawTar(f, nil, file("/etc/passwd", "x")),
		rawTar(f, nil, file(`\windows`, "x")),
		rawTar(f, nil, symlink("out", "../outside"), file("out/pwned", "x")),
		rawTar(f, nil, symlink("abs", "/tmp"), file("abs/pwned", "x")),
		rawTar(f, nil, dir("deep/er/"), symlink("deep/er/up", "../../z"), dir("z/"), symlink("deep/er/up/l", "../../outside")),
		rawTar(f, nil, dir("d/"), symlink("d/l", "x/../../outside"), symlink("d/x", ".")),
		rawTar(f, nil, symlink("loop", "loop"), file("loop/x", "x")),
		rawTar(f, nil, tarEntry{name: "hard", link: "stdout", typ: tar.TypeLink}, tarEntry{name: "dev", typ: tar.TypeChar}),
		rawTar(f, nil, file("a", "1"), file("a", "22"), dir("a/")),
		sparseTar(f),
		rawTar(f, map[string]string{"path": "pax/long/" + strings.Repeat("n", 200)}, file("x", "long name")),
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tarBytes []byte) {
		base := t.TempDir()
		out := filepath.Join(base, "out")
		outside := filepath.Join(base, "outside")
		if err := os.MkdirAll(outside, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(outside, "sentinel"), []byte("s"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := extractTarGz(bytes.NewReader(gzipped(t, tarBytes)), out)

		// Nothing new beside out/, nothing new or changed in outside/.
		for _, d := range []struct {
			dir  string
			want []string
		}{{base, []string{"out", "outside"}}, {outside, []string{"sentinel"}}} {
			ents, rerr := os.ReadDir(d.dir)
			if rerr != nil {
				t.Fatal(rerr)
			}
			var got []string
			for _, e := range ents {
				got = append(got, e.Name())
			}
			if strings.Join(got, ",") != strings.Join(d.want, ",") && !(d.dir == base && strings.Join(got, ",") == "outside") {
				t.Fatalf("extraction (err %v) wrote outside the output folder: %s holds %v", err, d.dir, got)
			}
		}
		if b, rerr := os.ReadFile(filepath.Join(outside, "sentinel")); rerr != nil || string(b) != "s" {
			t.Fatalf("extraction (err %v) changed a file outside the output folder", err)
		}
		var total int64
		_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, werr error) error {
			if werr != nil {
				return nil
			}
			info, ierr := d.Info()
			if ierr != nil {
				return nil
			}
			if info.Mode().IsRegular() {
				total += info.Size()
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				if r := followLoosely(t, p); !inside(out, r) {
					t.Fatalf("extraction (err %v) left link %s leading to %s, outside %s", err, p, r, out)
				}
			}
			return nil
		})
		if total > int64(len(tarBytes)) {
			t.Fatalf("a %d-byte archive unpacked to %d bytes", len(tarBytes), total)
		}
		if err != nil && errors.Is(err, errUnsafeEntry) && !strings.Contains(err.Error(), "unsafe") {
			t.Fatalf("unsafe entry error without saying so: %v", err)
		}
	})
}

// followLoosely is where the kernel takes a link: its target followed
// through every existing link, the parts that do not exist taken as written.
func followLoosely(t *testing.T, link string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(filepath.Dir(link))
	if err != nil {
		t.Fatalf("resolve %s: %v", filepath.Dir(link), err)
	}
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatalf("read link %s: %v", link, err)
	}
	p := target
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, target)
	}
	// The longest prefix that resolves, then the rest as written.
	for q, rest := p, ""; ; {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(q)
		if parent == q {
			return p
		}
		rest = filepath.Join(filepath.Base(q), rest)
		q = parent
	}
}

func inside(root, p string) bool {
	root, _ = filepath.EvalSymlinks(root)
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func TestExtractRefusesLinksThatLeadOutOnDisk(t *testing.T) {
	for name, archive := range map[string][]byte{
		// Each link looks inside when read alone; on disk it leads out.
		"through a linked folder": rawTar(t, nil, dir("deep/er/"), dir("z/"), symlink("deep/er/up", "../../z"), symlink("deep/er/up/l", "../../outside")),
		"through a later link":    rawTar(t, nil, dir("d/"), symlink("d/l", "x/../../outside"), symlink("d/x", ".")),
	} {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			out := filepath.Join(base, "out")
			err := extractTarGz(bytes.NewReader(gzipped(t, archive)), out)
			if !errors.Is(err, errUnsafeEntry) {
				t.Fatalf("err = %v, want an unsafe entry", err)
			}
			_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, _ error) error {
				if d != nil && d.Type()&fs.ModeSymlink != 0 && !inside(out, followLoosely(t, p)) {
					t.Fatalf("link %s leads out", p)
				}
				return nil
			})
		})
	}
}

func TestExtractSkipsSparseFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := extractTarGz(bytes.NewReader(gzipped(t, sparseTar(t))), out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(out, "huge")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the sparse file was unpacked (%v)", err)
	}
}
