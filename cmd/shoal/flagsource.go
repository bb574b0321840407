package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// bindFlagSources fills every flag the command line did not set from, in
// order, its environment variable (SHOAL_ + the flag name in upper case with
// underscores: --api-addr → SHOAL_API_ADDR) and the config file named by
// --config (YAML or JSON, keys are flag names).
func bindFlagSources(cmd *cobra.Command) error {
	fileValues := map[string]any{}
	if path, _ := cmd.Flags().GetString("config"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read config file: %w", err)
		}
		if err := yaml.Unmarshal(data, &fileValues); err != nil {
			return fmt.Errorf("parse config file %s: %w", path, err)
		}
	}
	var errs []string
	// Only the command's own flags: the client's global --api-host/--api-port
	// mean nothing to serve.
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", envName(f.Name), v, err))
			}
			return
		}
		if v, ok := fileValues[f.Name]; ok {
			if err := setFromFile(cmd.Flags(), f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("config %s: %v", f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("invalid settings: %s", strings.Join(errs, "; "))
	}
	return nil
}

func setFromFile(fs *pflag.FlagSet, name string, v any) error {
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, p := range t {
			parts[i] = fmt.Sprint(p)
		}
		return fs.Set(name, strings.Join(parts, ","))
	case map[string]any:
		parts := make([]string, 0, len(t))
		for k, val := range t {
			parts = append(parts, fmt.Sprintf("%s=%v", k, val))
		}
		return fs.Set(name, strings.Join(parts, ","))
	default:
		return fs.Set(name, fmt.Sprint(v))
	}
}

func envName(flag string) string {
	return "SHOAL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
