package main

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// errUnsafeEntry is a tar entry that would land outside the output folder.
var errUnsafeEntry = errors.New("unsafe path in results archive")

// extractTarGz unpacks a gzipped tar into dir. Entries that would land
// outside dir (absolute names, ".." elements, links pointing out) are
// refused; the writes go through an os.Root on dir, so that not even a link
// unpacked earlier can lead a later entry out. Entries other than folders,
// files and symbolic links (devices, hard links) are skipped.
func extractTarGz(r io.Reader, dir string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("results archive is not gzip data: %w", err)
	}
	defer gz.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading results archive: %w", err)
		}
		name, err := entryPath(hdr.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue // the archive's own root folder
		}
		if err := extractEntry(root, tr, hdr, name); err != nil {
			return fmt.Errorf("extracting %s: %w", hdr.Name, err)
		}
	}
}

// entryPath checks a tar entry's name and returns it cleaned, "" for the
// archive's root.
func entryPath(name string) (string, error) {
	if path.IsAbs(name) || strings.HasPrefix(name, `\`) {
		return "", fmt.Errorf("%w: %q is absolute", errUnsafeEntry, name)
	}
	for _, elem := range strings.Split(strings.ReplaceAll(name, `\`, "/"), "/") {
		if elem == ".." {
			return "", fmt.Errorf("%w: %q leads out of the output folder", errUnsafeEntry, name)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

func extractEntry(root *os.Root, tr *tar.Reader, hdr *tar.Header, name string) error {
	perm := fs.FileMode(hdr.Mode).Perm()
	switch hdr.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, perm|0o700)
	case tar.TypeReg:
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm|0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case tar.TypeSymlink:
		target := hdr.Linkname
		resolved := path.Clean(path.Join(path.Dir(name), target))
		if path.IsAbs(target) || resolved == ".." || strings.HasPrefix(resolved, "../") {
			return fmt.Errorf("%w: link %q points to %q, outside the output folder", errUnsafeEntry, name, target)
		}
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		return root.Symlink(target, name)
	}
	return nil
}
