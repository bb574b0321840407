package publisher

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"
)

// WriteTarball writes dst as a gzipped tar holding "stdout", "stderr",
// "exitCode" and a folder per result path with its files. It writes a
// temporary file first, so a reader never sees a half-written tarball.
func WriteTarball(ctx context.Context, dst string, req *Request) (err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tarball-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	gz := gzip.NewWriter(tmp)
	tw := tar.NewWriter(gz)
	now := time.Now()
	if err := addFileOrEmpty(tw, "stdout", req.StdoutPath, now); err != nil {
		return err
	}
	if err := addFileOrEmpty(tw, "stderr", req.StderrPath, now); err != nil {
		return err
	}
	if err := addBytes(tw, "exitCode", []byte(strconv.Itoa(req.ExitCode)), now); err != nil {
		return err
	}
	for _, r := range req.Results {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := addTree(ctx, tw, r.Name, r.Dir); err != nil {
			return fmt.Errorf("result path %q: %w", r.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func addBytes(tw *tar.Writer, name string, data []byte, mtime time.Time) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func addFileOrEmpty(tw *tar.Writer, name, src string, mtime time.Time) error {
	if src == "" {
		return addBytes(tw, name, nil, mtime)
	}
	f, err := os.Open(src)
	if os.IsNotExist(err) {
		return addBytes(tw, name, nil, mtime)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	return copyFile(tw, name, f, info)
}

func copyFile(tw *tar.Writer, name string, r io.Reader, info fs.FileInfo) error {
	hdr := &tar.Header{Name: name, Mode: int64(info.Mode().Perm()), Size: info.Size(),
		ModTime: info.ModTime(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	// The size is fixed in the header: copy exactly that much even if the
	// file grew meanwhile.
	_, err := io.CopyN(tw, r, info.Size())
	return err
}

// addTree adds dir as the folder prefix/, with its files, sub-folders and
// symlinks (kept as links, never followed, so a task cannot make the node
// pack files from outside its result folder).
func addTree(ctx context.Context, tw *tar.Writer, prefix, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: int64(info.Mode().Perm()),
				ModTime: info.ModTime(), Typeflag: tar.TypeDir})
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Name: name, Linkname: link, Mode: 0o777,
				ModTime: info.ModTime(), Typeflag: tar.TypeSymlink})
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return copyFile(tw, name, f, info)
		}
		return nil // sockets, devices, pipes: not results
	})
}
