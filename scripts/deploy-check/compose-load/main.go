// compose-load loads compose files the way Docker Compose does (compose-go: interpolation, merging of
// override files, profiles, the compose-spec schema and compose's own consistency checks) and fails
// with compose's message when they do not load.
//
//	compose-load -env-file .env.example [-profile cpu]... compose.yaml [override.yaml]...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	envFile := flag.String("env-file", "", "the example env file (the only source of variables)")
	var profiles list
	flag.Var(&profiles, "profile", "a profile to enable (repeatable)")
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 || *envFile == "" {
		fmt.Fprintln(os.Stderr, "usage: compose-load -env-file FILE [-profile P]... compose.yaml [override.yaml]...")
		os.Exit(2)
	}
	env, err := filepath.Abs(*envFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Only the example env file: neither the caller's environment nor a local .env may fill a gap.
	opts, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithEnvFiles(env),
		cli.WithDotEnv, // reads the files named by WithEnvFiles, not .env
		cli.WithProfiles(profiles),
	)
	if err == nil {
		_, err = opts.LoadProject(context.Background())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "  %s (profiles [%s]): %v\n", strings.Join(files, " + "), profiles.String(), err)
		os.Exit(1)
	}
}
