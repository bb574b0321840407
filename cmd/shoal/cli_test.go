package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestSplitHosts(t *testing.T) {
	cases := []struct {
		list    string
		port    int
		want    []string
		wantErr bool
	}{
		{"127.0.0.1", 1234, []string{"http://127.0.0.1:1234"}, false},
		{"127.0.0.1:1234,127.0.0.1:2234, 127.0.0.1:3234", 9, []string{"http://127.0.0.1:1234", "http://127.0.0.1:2234", "http://127.0.0.1:3234"}, false},
		{"a,b:2234", 1234, []string{"http://a:1234", "http://b:2234"}, false},
		{"https://shoal.example.com,http://c:3234/", 443, []string{"https://shoal.example.com:443", "http://c:3234"}, false},
		{"::1", 1234, []string{"http://[::1]:1234"}, false},
		{"[::1]:2234", 1234, []string{"http://[::1]:2234"}, false},
		{"0.0.0.0", 1234, []string{"http://127.0.0.1:1234"}, false},
		{" , ", 1234, nil, true},
		{"host/path", 1234, nil, true},
		{"ftp://x", 1234, nil, true},
		{"a", 0, nil, true},
		{"a", 70000, nil, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s:%d", c.list, c.port), func(t *testing.T) {
			got, err := splitHosts(c.list, c.port)
			if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, %v; want %v, error %v", got, err, c.want, c.wantErr)
			}
			if err != nil && exitCodeOf(err) != exitUsage {
				t.Errorf("%v: want a usage error", err)
			}
		})
	}
}

func TestAPIHostsFromFlagsAndEnvironment(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"defaults", nil, nil, []string{"http://127.0.0.1:1234"}},
		{"environment", map[string]string{envAPIHost: "a,b:2", envAPIPort: "7"}, nil, []string{"http://a:7", "http://b:2"}},
		{"flags win", map[string]string{envAPIHost: "a", envAPIPort: "7"}, []string{"--api-host", "c", "--api-port", "8"}, []string{"http://c:8"}},
		{"a flag and the other from the environment", map[string]string{envAPIPort: "7"}, []string{"--api-host", "c"}, []string{"http://c:7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := testEnv(c.env)
			var got []string
			root := &cobra.Command{Use: "shoal", SilenceErrors: true, SilenceUsage: true}
			addClientCommands(root, env)
			root.AddCommand(&cobra.Command{Use: "probe", RunE: func(cmd *cobra.Command, _ []string) error {
				var err error
				got, err = env.apiHosts(cmd)
				return err
			}})
			root.SetArgs(append([]string{"probe"}, c.args...))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	res := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIPort: "http"}), "", "job", "list")
	if res.code != exitUsage || res.stderr != "Error: SHOAL_API_PORT=\"http\" is not a port number (see 'shoal job list --help')\n" {
		t.Errorf("bad port: exit %d %q", res.code, res.stderr)
	}
}

func TestExitCodes(t *testing.T) {
	apiErr := func(status int, code string) error {
		return fmt.Errorf("describe: %w", &api.APIError{Status: status, Code: code, Message: "m"})
	}
	cases := []struct {
		name string
		err  error
		code int
	}{
		{"usage", usageErrorf("bad flag"), exitUsage},
		{"bad input", inputErrorf("bad spec"), exitUsage},
		{"the API refuses the input", apiErr(http.StatusBadRequest, api.CodeValidationError), exitUsage},
		{"an ambiguous ID", apiErr(http.StatusBadRequest, api.CodeMultipleFound), exitUsage},
		{"too large", apiErr(http.StatusRequestEntityTooLarge, api.CodeRequestTooLarge), exitUsage},
		{"not found", apiErr(http.StatusNotFound, api.CodeNotFound), exitFailure},
		{"conflict", apiErr(http.StatusConflict, api.CodeConflictJobState), exitFailure},
		{"server error", apiErr(http.StatusInternalServerError, api.CodeInternalError), exitFailure},
		{"no leader", apiErr(http.StatusServiceUnavailable, api.CodeNoLeader), exitUnreachable},
		{"unreachable", &client.RequestError{Method: "GET", Path: "/x", Host: "h", Err: errors.New("refused")}, exitUnreachable},
		{"outcome unknown", &client.RequestError{Method: "PUT", Path: "/x", Host: "h", OutcomeUnknown: true, Err: errors.New("reset")}, exitUnreachable},
		{"interrupted", fmt.Errorf("GET /x: %w", context.Canceled), exitInterrupted},
		{"a job that failed", &exitError{code: exitFailure, err: errors.New("job failed")}, exitFailure},
		{"gave up waiting", &exitError{code: exitWaitTimeout, err: errors.New("gave up")}, exitWaitTimeout},
		{"anything else", errors.New("disk full"), exitFailure},
	}
	cmd := &cobra.Command{Use: "x"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := exitCode(commandError(cmd, c.err)); got != c.code {
				t.Errorf("exit code %d, want %d", got, c.code)
			}
		})
	}
}

func TestErrorsPrintOnOneLine(t *testing.T) {
	cmd := &cobra.Command{Use: "describe"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"the API's message and hint", &api.APIError{Status: 400, Message: "prefix j-1 matches 2 jobs",
			Code: api.CodeMultipleFound, Hint: "use the full job ID"}, "prefix j-1 matches 2 jobs (use the full job ID)"},
		{"several problems", &api.APIError{Status: 400, Message: "a\nb\r\n  c  "}, "a; b; c"},
		{"a local error's hint", api.BadRequestf("bad").WithHint("try this"), "bad (try this)"},
		{"a usage error points at the help", usageErrorf("accepts 1 arg(s)"), "accepts 1 arg(s) (see 'describe --help')"},
		{"an input error does not", inputErrorf("invalid job spec x: it is empty"), "invalid job spec x: it is empty"},
		{"unreachable", &client.RequestError{Method: "GET", Path: "/x", Host: "http://h:1",
			Err: errors.New("dial tcp: i/o timeout")}, "cannot reach the Shoal API (last tried http://h:1): dial tcp: i/o timeout; " +
			"is a replica running there? Point --api-host/--api-port (or SHOAL_API_HOST/SHOAL_API_PORT) at one"},
		{"interrupted", fmt.Errorf("GET /x: %w", context.Canceled), "interrupted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := commandError(cmd, c.err).Error(); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestEveryCommandExplainsItself walks the command tree: each command has a
// summary and examples (group commands list their subcommands instead), and
// each flag says what it does.
func TestEveryCommandExplainsItself(t *testing.T) {
	root := &cobra.Command{Use: "shoal"}
	addClientCommands(root, testEnv(nil))
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%s has no summary", c.CommandPath())
		}
		if !c.HasSubCommands() && c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && strings.TrimSpace(f.Usage) == "" {
				t.Errorf("%s --%s is not explained", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range root.Commands() {
		walk(c)
	}
	for _, path := range [][]string{{"job", "run"}, {"docker", "run"}, {"wasm", "run"}} {
		c, _, err := root.Find(path)
		if err != nil || !strings.Contains(c.Long, "Exit codes:") {
			t.Errorf("%v: the help does not list the exit codes", path)
		}
	}
}

func TestGroupCommands(t *testing.T) {
	env := testEnv(nil)
	res := runCLIWith(t, context.Background(), env, "", "job")
	if res.code != 0 || !strings.Contains(res.stdout, "Available Commands:") {
		t.Errorf("bare group: exit %d %q", res.code, res.stdout)
	}
	res = runCLIWith(t, context.Background(), env, "", "node", "lsit")
	if res.code != exitUsage || res.stderr != "Error: unknown command \"lsit\" for \"shoal node\" (see 'shoal node --help')\n" {
		t.Errorf("unknown subcommand: exit %d %q", res.code, res.stderr)
	}
	res = runCLIWith(t, context.Background(), env, "", "job", "list", "--bogus")
	if res.code != exitUsage || res.stderr != "Error: unknown flag: --bogus (see 'shoal job list --help')\n" {
		t.Errorf("unknown flag: exit %d %q", res.code, res.stderr)
	}
}

func TestStyling(t *testing.T) {
	terminal := testEnv(nil)
	terminal.isTerminal = func(any) bool { return true }
	noColor := testEnv(map[string]string{"NO_COLOR": "1"})
	noColor.isTerminal = terminal.isTerminal
	cases := []struct {
		name    string
		env     *cliEnv
		noStyle bool
		want    bool
	}{
		{"terminal", terminal, false, true},
		{"--no-style", terminal, true, false},
		{"NO_COLOR", noColor, false, false},
		{"not a terminal", testEnv(nil), false, false},
	}
	for _, c := range cases {
		if got := newStyler(c.env, nil, c.noStyle).enabled; got != c.want {
			t.Errorf("%s: styled %v, want %v", c.name, got, c.want)
		}
	}
	// Colors never move a column.
	tbl := newTable("STATE", "ID")
	st := styler{enabled: true}
	tbl.styleColumn("STATE", st.state)
	tbl.add("Completed", "a")
	tbl.add("Failed", "b")
	var plain, styled strings.Builder
	_ = tbl.render(&plain, styler{})
	_ = tbl.render(&styled, st)
	want := "STATE      ID\nCompleted  a\nFailed     b\n"
	if plain.String() != want {
		t.Errorf("plain:\n%s", plain.String())
	}
	stripped := ansiPattern(styled.String())
	if stripped != want || styled.String() == want {
		t.Errorf("styled:\n%q\nstripped:\n%s", styled.String(), stripped)
	}
}

// ansiPattern removes ANSI SGR sequences.
func ansiPattern(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestTimes(t *testing.T) {
	env := testEnv(nil)
	cases := []struct {
		at          time.Time
		short, ago  string
		description string
	}{
		{testNow.Add(-27 * time.Second), "08:35:03", "27s ago", "today"},
		{testNow.Add(-90 * time.Minute), "07:05:30", "1h ago", "earlier today"},
		{testNow.Add(-50 * time.Hour), "Nov 25 06:35", "2d ago", "this year"},
		{testNow.AddDate(-1, 0, 0), "Nov 27 2025", "365d ago", "another year"},
		{time.Time{}, "-", "-", "no time"},
	}
	for _, c := range cases {
		if got := env.shortTime(c.at); got != c.short {
			t.Errorf("%s: shortTime %q, want %q", c.description, got, c.short)
		}
		if got := env.ago(c.at); got != c.ago {
			t.Errorf("%s: ago %q, want %q", c.description, got, c.ago)
		}
	}
}
