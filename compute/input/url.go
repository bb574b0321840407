package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// StatusError is a download answered with a non-2xx status.
type StatusError struct {
	URL        string
	StatusCode int
	Status     string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("downloading %s: server answered %s", e.URL, e.Status)
}

// retryable reports whether another attempt may succeed: server errors and
// throttling, not a missing file or a refused request.
func (e *StatusError) retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests ||
		e.StatusCode == http.StatusRequestTimeout
}

func (f *Fetcher) fetchURL(ctx context.Context, params map[string]any, dir, target string) (engine.Mount, error) {
	var p urlParams
	if err := engine.DecodeParams(params, &p); err != nil {
		return engine.Mount{}, api.BadRequestf("urlDownload input: %v", err)
	}
	u, err := url.Parse(strings.TrimSpace(p.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return engine.Mount{}, api.BadRequestf("urlDownload input: %q is not an http or https URL", p.URL)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return engine.Mount{}, err
	}
	dest := fileDest(dir, target)
	wait := f.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		err = f.download(ctx, u.String(), dest)
		if err == nil {
			return engine.Mount{Source: dest, Target: target, ReadOnly: true}, nil
		}
		if ctx.Err() != nil {
			return engine.Mount{}, ctx.Err()
		}
		var se *StatusError
		if errors.As(err, &se) && !se.retryable() {
			return engine.Mount{}, err
		}
		if attempt >= f.cfg.Attempts {
			return engine.Mount{}, fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		f.log.Debug("download failed, retrying", "url", u.Redacted(), "attempt", attempt, "err", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return engine.Mount{}, ctx.Err()
		case <-timer.C:
		}
		wait *= 2
	}
}

// download fetches one URL into dest, through a temporary file so a failed
// attempt never leaves a partial input behind.
func (f *Fetcher) download(ctx context.Context, rawURL, dest string) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return &StatusError{URL: rawURL, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}
