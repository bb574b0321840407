package main

import (
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

func newDockerCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("docker", "Run Docker containers as jobs", "Run Docker containers as jobs on the cluster's compute nodes.")
	cmd.AddCommand(newDockerRunCommand(env))
	return cmd
}

type dockerFlags struct {
	workdir    string
	entrypoint []string
	env        []string
}

func newDockerRunCommand(env *cliEnv) *cobra.Command {
	var (
		jf jobFlags
		rf runFlags
		df dockerFlags
	)
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [--] [COMMAND [ARG...]]",
		Short: "Run a Docker image as a job and wait for it",
		Long: `Run a Docker image as a job: by default a batch job (--count executions on
matching nodes, retried elsewhere on failure), or with --target all an ops
job (once on every matching node). Flags go before IMAGE; what follows IMAGE is the command and its
arguments (the image's CMD), given to the image's entrypoint (--entrypoint
replaces it).

` + inputHelp + `

` + runOutputHelp + `

` + exitCodesHelp,
		Example: `  shoal docker run ubuntu:22.04 echo hello
  shoal docker run -i https://example.com/data.csv -o outputs:/outputs \
      --entrypoint /bin/sh ubuntu:22.04 -c 'wc -l /inputs/data.csv > /outputs/count.txt'
  shoal job get <job ID>                          # download /outputs of each execution
  shoal docker run --cpu 500m --memory 1gb --timeout 10m -e MODE=fast python:3.12 python -c 'print(1)'
  shoal docker run --target all --constraints 'region=eu' alpine uname -a
  shoal docker run --dry-run alpine echo hi        # print the job, send nothing`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if err := rf.check(); err != nil {
				return err
			}
			job, err := dockerJob(&jf, &df, a)
			if err != nil {
				return err
			}
			return env.submit(cmd, job, &rf)
		}),
	}
	f := cmd.Flags()
	// Everything after IMAGE belongs to the container, as with docker run.
	f.SetInterspersed(false)
	jf.register(f)
	rf.register(f)
	f.StringVarP(&df.workdir, "workdir", "w", "", "working directory inside the container")
	f.StringSliceVar(&df.entrypoint, "entrypoint", nil, "replace the image's entrypoint (comma-separated: /bin/sh,-c)")
	f.StringArrayVarP(&df.env, "env", "e", nil, "environment variable NAME=VALUE (repeatable)")
	return cmd
}

// dockerJob makes the job of `docker run IMAGE [COMMAND ARGS]`.
func dockerJob(jf *jobFlags, df *dockerFlags, a []string) (*api.Job, error) {
	image := strings.TrimSpace(a[0])
	if image == "" {
		return nil, usageErrorf("missing IMAGE")
	}
	params := map[string]any{"Image": image}
	cmdArgs := a[1:]
	if len(cmdArgs) > 0 && cmdArgs[0] == "--" {
		cmdArgs = cmdArgs[1:]
	}
	if len(cmdArgs) > 0 {
		params["Parameters"] = cmdArgs
	}
	if len(df.entrypoint) > 0 {
		params["Entrypoint"] = df.entrypoint
	}
	if df.workdir != "" {
		params["WorkingDirectory"] = df.workdir
	}
	if len(df.env) > 0 {
		vars := make([]string, 0, len(df.env))
		for _, e := range df.env {
			if _, _, err := parseEnv(e); err != nil {
				return nil, err
			}
			vars = append(vars, e)
		}
		params["EnvironmentVariables"] = vars
	}
	return jf.build(&api.SpecConfig{Type: api.EngineDocker, Params: params})
}
