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
// unpacked earlier can lead a later entry out. Once everything is unpacked,
// every symbolic link is followed as the disk now resolves it (through
// linked folders, and links unpacked after it): one that leads out is
// removed and the extraction fails, so no link is left behind for a later
// command to follow out of dir. Entries other than folders, files and
// symbolic links (devices, hard links, sparse files, whose holes would
// unpack to far more bytes than were downloaded) are skipped.
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
	var links []string
	err = extractEntries(root, tar.NewReader(gz), &links)
	return errors.Join(err, checkLinks(root, links))
}

func extractEntries(root *os.Root, tr *tar.Reader, links *[]string) error {
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
		if name == "" || isSparse(hdr) {
			continue // the archive's own root folder, or a sparse file
		}
		if hdr.Typeflag == tar.TypeSymlink {
			*links = append(*links, name)
		}
		if err := extractEntry(root, tr, hdr, name); err != nil {
			return fmt.Errorf("extracting %s: %w", hdr.Name, err)
		}
	}
}

// isSparse reports a GNU sparse file in any of its encodings.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// checkLinks removes each unpacked link that, followed on the disk as it now
// is, leads out of root, and says so.
func checkLinks(root *os.Root, links []string) error {
	var errs []error
	for _, name := range links {
		if resolvesInside(root, name) {
			continue
		}
		if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing link %s: %w", name, err))
		}
		errs = append(errs, fmt.Errorf("%w: link %q leads out of the output folder", errUnsafeEntry, name))
	}
	return errors.Join(errs...)
}

// maxLinkHops bounds how many links one path may go through (the kernel's
// own limit is 40).
const maxLinkHops = 255

// resolvesInside follows a slash-separated path relative to root the way
// the kernel would, through every link on the way, and reports whether it
// stays inside root. Parts that do not exist are taken as they are written.
func resolvesInside(root *os.Root, p string) bool {
	var at []string // the real folders walked so far, below root
	todo := strings.Split(p, "/")
	for hops := 0; len(todo) > 0; {
		elem := todo[0]
		todo = todo[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if len(at) == 0 {
				return false
			}
			at = at[:len(at)-1]
			continue
		}
		cur := path.Join(append(at, elem)...)
		info, err := root.Lstat(cur)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			at = append(at, elem)
			continue
		}
		if hops++; hops > maxLinkHops {
			return false
		}
		target, err := root.Readlink(cur)
		if err != nil || path.IsAbs(target) || strings.HasPrefix(target, `\`) {
			return false
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return true
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
