package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

type getFlags struct {
	outputDir      string
	timeout        time.Duration
	timeoutSecs    int
	raw            bool
	downloadClient *http.Client
}

func newJobGetCommand(env *cliEnv) *cobra.Command {
	f := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get JOB_ID",
		Short: "Download the results a job's executions published",
		Long: `Download what each completed execution of the job published, and unpack it
into its own folder under --output-dir (default ./job-<short job ID>):

  job-j-1a2b3c4d/
    e-5b1c7b48/
      stdout  stderr  exitCode  <one folder per result path, e.g. outputs/>

Results published with the local publisher (-p local) are tar.gz archives
that the compute node serves; they are downloaded from it directly or, when
the node is out of reach from here, relayed by the replica you talk to. An
archive entry that would land outside its folder is refused. --raw keeps
the archives as they are (<execution>.tar.gz) instead of unpacking them.`,
		Example: `  shoal job get j-1a2b3c4d
  shoal job get j-1a2b3c4d --output-dir ./results --raw`,
		Args: args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if f.timeoutSecs > 0 {
				f.timeout = time.Duration(f.timeoutSecs) * time.Second
			}
			if f.timeout < 0 {
				return usageErrorf("invalid --download-timeout %s: must not be negative", f.timeout)
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			f.downloadClient = env.httpClient
			if f.downloadClient == nil {
				f.downloadClient = http.DefaultClient
			}
			return f.get(cmd, c, a[0])
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.outputDir, "output-dir", "", "folder to download into (default ./job-<short job ID>)")
	fl.DurationVar(&f.timeout, "download-timeout", 5*time.Minute, "longest time one download may take (0: no limit)")
	fl.IntVar(&f.timeoutSecs, "download-timeout-secs", 0, "upstream's spelling of --download-timeout, in seconds")
	_ = fl.MarkHidden("download-timeout-secs")
	fl.BoolVar(&f.raw, "raw", false, "keep each result archive as it is instead of unpacking it")
	return cmd
}

func (f *getFlags) get(cmd *cobra.Command, c *client.Client, id string) error {
	ctx := cmd.Context()
	got, _, err := c.Jobs().Get(ctx, id, client.GetJobOptions{})
	if err != nil {
		return err
	}
	if got.Job == nil {
		return fmt.Errorf("the API answered without a job")
	}
	job := got.Job
	execs, err := allExecutions(ctx, c, job.ID)
	if err != nil {
		return err
	}
	var published []*api.Execution
	for _, e := range sortedExecutions(execs) {
		if e.ComputeState.StateType == api.ExecutionStateCompleted && e.PublishedResult != nil && e.PublishedResult.Type != "" {
			published = append(published, e)
		}
	}
	if len(published) == 0 {
		if !job.State.StateType.IsTerminal() {
			return fmt.Errorf("job %s has no results yet: it is %s", job.ID, job.State.StateType)
		}
		return fmt.Errorf("job %s published no results: only a job with a publisher (such as -p local) has results to download", job.ID)
	}
	dir := f.outputDir
	if dir == "" {
		dir = "job-" + api.ShortID(job.ID)
	}
	folders := executionFolders(published)
	downloaded := 0
	for _, e := range published {
		res := e.PublishedResult
		if !strings.EqualFold(res.Type, api.StorageURLDownload) {
			fmt.Fprintf(stderr(cmd), "Skipping execution %s: its results were published to %s, which this command cannot download\n",
				api.ShortID(e.ID), res.Type)
			continue
		}
		rawURL, _ := res.Params["URL"].(string)
		if rawURL == "" {
			return fmt.Errorf("execution %s published a urlDownload result without a URL", e.ID)
		}
		dest := filepath.Join(dir, folders[e.ID])
		if err := f.fetch(ctx, c, job.ID, e.ID, rawURL, dest); err != nil {
			return fmt.Errorf("results of execution %s: %w", api.ShortID(e.ID), err)
		}
		fmt.Fprintf(stdout(cmd), "Execution %s: %s\n", api.ShortID(e.ID), dest)
		downloaded++
	}
	if downloaded == 0 {
		return fmt.Errorf("job %s has no results this command can download", job.ID)
	}
	fmt.Fprintf(stderr(cmd), "Downloaded the results of %s into %s\n", plural(downloaded, "execution"), dir)
	return nil
}

// allExecutions reads every page of a job's executions.
func allExecutions(ctx context.Context, c *client.Client, jobID string) ([]*api.Execution, error) {
	var out []*api.Execution
	token := ""
	for {
		resp, _, err := c.Jobs().Executions(ctx, jobID, client.ExecutionsOptions{NextToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.Executions...)
		if resp.NextToken == "" || resp.NextToken == token {
			return out, nil
		}
		token = resp.NextToken
	}
}

// executionFolders names each execution's folder by its short ID, or its
// full ID where two short IDs collide.
func executionFolders(execs []*api.Execution) map[string]string {
	count := map[string]int{}
	for _, e := range execs {
		count[api.ShortID(e.ID)]++
	}
	out := map[string]string{}
	for _, e := range execs {
		name := api.ShortID(e.ID)
		if count[name] > 1 {
			name = e.ID
		}
		out[e.ID] = filepath.Base(filepath.Clean("/" + name))
	}
	return out
}

// fetch downloads one result archive and unpacks it into dest (or saves it
// as dest.tar.gz with --raw). It refuses to mix into a folder that already
// holds something.
func (f *getFlags) fetch(ctx context.Context, c *client.Client, jobID, execID, rawURL, dest string) error {
	target := dest
	if f.raw {
		target = dest + ".tar.gz"
	}
	if nonEmpty(target) {
		return fmt.Errorf("%s already exists: remove it or choose another --output-dir", target)
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	body, err := f.open(ctx, c, jobID, execID, rawURL)
	if err != nil {
		return err
	}
	defer body.Close()
	if !f.raw {
		return extractTarGz(body, dest)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, body); err != nil {
		out.Close()
		return fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	return out.Close()
}

// open downloads from the compute node that published the result. When that
// node cannot be reached from here (it may live on the cluster's private
// network), a replica relays the archive instead.
func (f *getFlags) open(ctx context.Context, c *client.Client, jobID, execID, rawURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid result URL %q: %w", rawURL, err)
	}
	resp, err := f.downloadClient.Do(req)
	if err == nil {
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("downloading %s: the compute node answered %s", rawURL, resp.Status)
		}
		return resp.Body, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	pr, pw := io.Pipe()
	go func() {
		path := "/api/v1/orchestrator/jobs/" + url.PathEscape(jobID) + "/executions/" + url.PathEscape(execID) + "/result"
		_, err := c.Do(ctx, http.MethodGet, path, nil, nil, pw)
		if err != nil {
			err = fmt.Errorf("the compute node at %s is out of reach, and relaying through the API failed: %w", rawURL, err)
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// nonEmpty reports a file, or a folder with something in it.
func nonEmpty(p string) bool {
	info, err := os.Stat(p)
	if err != nil {
		return false // missing; any other trouble shows when writing
	}
	if !info.IsDir() {
		return true
	}
	entries, err := os.ReadDir(p)
	return err != nil || len(entries) > 0
}
