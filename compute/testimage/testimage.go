// Package testimage builds a tiny Docker image for tests without pulling
// anything: it imports a tarball holding the statically linked busybox of
// the machine (Debian's busybox-static, /usr/bin/busybox) and symlinks for
// the usual tools. Engine, node and cluster tests share it.
package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// BusyboxPath is where the statically linked busybox is expected.
const BusyboxPath = "/usr/bin/busybox"

// Tools get a symlink to busybox in /bin.
var Tools = []string{"sh", "echo", "cat", "sleep", "ls", "env", "pwd", "mkdir", "true", "false",
	"printf", "ip", "ifconfig", "wget", "head", "wc", "grep", "test", "id", "touch", "yes", "seq", "cut"}

// Client returns a Docker client for tests, or skips the test, loudly,
// when no Docker engine answers.
func Client(ctx context.Context, t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Skipf("SKIPPING DOCKER TEST: cannot build a Docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Info(ctx); err != nil {
		cli.Close()
		t.Skipf("SKIPPING DOCKER TEST: docker info failed, no Docker engine here: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Build imports the busybox image under a unique tag and returns its
// reference; the image is removed when the test ends, passed or not.
func Build(ctx context.Context, t testing.TB) string {
	t.Helper()
	cli := Client(ctx, t)
	rootfs, err := Rootfs()
	if err != nil {
		t.Fatalf("testimage: %v", err)
	}
	ref := "shoal-test-busybox:" + randomTag()
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, ref,
		image.ImportOptions{Message: "shoal test image", Changes: []string{`CMD ["/bin/sh"]`, "ENV PATH=/bin"}})
	if err != nil {
		t.Fatalf("testimage: docker import: %v", err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		t.Fatalf("testimage: docker import: %v", err)
	}
	id := ref
	info, inspectErr := cli.ImageInspect(ctx, ref)
	if inspectErr == nil && info.ID != "" {
		id = info.ID
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		// Containers made from this uniquely tagged image are the test's
		// own; while one exists, removing the image would only untag it
		// and leave it behind, nameless. A compute node may still be
		// removing one, so the image goes by ID, and a second time if the
		// first removal only untagged it.
		for attempt := 0; attempt < 2; attempt++ {
			list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("ancestor", id))})
			if err == nil {
				for _, c := range list {
					_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
				}
			}
			_, err = cli.ImageRemove(ctx, id, image.RemoveOptions{Force: true, PruneChildren: true})
			if cerrdefs.IsNotFound(err) {
				return
			}
			if err != nil {
				t.Logf("testimage: removing %s (%s): %v", ref, id, err)
			}
			if _, err := cli.ImageInspect(ctx, id); cerrdefs.IsNotFound(err) {
				return
			}
		}
	})
	if inspectErr != nil {
		t.Fatalf("testimage: imported image %s not found: %v", ref, inspectErr)
	}
	return ref
}

// Rootfs returns the image's filesystem as a tar: /bin/busybox, a symlink
// per tool, and the empty folders a container expects.
func Rootfs() ([]byte, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s (install busybox-static): %w", BusyboxPath, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, dir := range []string{"bin/", "tmp/", "etc/", "proc/", "sys/", "dev/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: mode, ModTime: now}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755,
		Size: int64(len(bin)), ModTime: now}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	for _, tool := range Tools {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + tool, Typeflag: tar.TypeSymlink,
			Linkname: "busybox", Mode: 0o777, ModTime: now}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func randomTag() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
