// Command dashboardschema decodes Grafana dashboard JSON files strictly, with the
// types of the Grafana Foundation SDK, and reports what Grafana would not expect.
//
// Usage: go run . DASHBOARD.json...
//
// It prints one JSON object per file:
//
//	{"path": ..., "errors": [...], "filledByGrafana": [...]}
//
// errors are unknown fields, wrong types and bad values: real mistakes.
// filledByGrafana are required fields missing from the file, which Grafana fills
// in itself when it loads a dashboard (a panel's fieldConfig, for example).
// The exit status is 1 when any file has errors, 2 when a file cannot be read.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The SDK's message for a required field that is absent from the input.
const missing = "required field is missing from input"

type report struct {
	Path            string   `json:"path"`
	Errors          []string `json:"errors"`
	FilledByGrafana []string `json:"filledByGrafana"`
}

// check decodes one dashboard and sorts the SDK's complaints into the two lists.
func check(path string) (report, error) {
	result := report{Path: path, Errors: []string{}, FilledByGrafana: []string{}}
	raw, err := os.ReadFile(path)
	if err != nil {
		return result, err
	}
	err = (&dashboard.Dashboard{}).UnmarshalJSONStrict(raw)

	// Strict decoding gathers every problem it finds as cog.BuildErrors, each
	// with the JSON path it is about: "panels[3].targets[0]: unexpected field 'x'".
	var problems cog.BuildErrors
	if errors.As(err, &problems) {
		for _, problem := range problems {
			if problem.Message == missing {
				result.FilledByGrafana = append(result.FilledByGrafana, problem.Error())
			} else {
				result.Errors = append(result.Errors, problem.Error())
			}
		}
	} else if err != nil {
		// Anything else stopped the decoding early: not JSON, or not an object.
		result.Errors = append(result.Errors, err.Error())
	}
	return result, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dashboardschema DASHBOARD.json...")
		os.Exit(2)
	}
	// Panel options and queries are plugin types: register the built-in panels
	// and data sources so that they are decoded strictly too, not kept as maps.
	plugins.RegisterDefaultPlugins()

	var reports []report
	failed := false
	for _, path := range os.Args[1:] {
		result, err := check(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		reports = append(reports, result)
		failed = failed || len(result.Errors) > 0
	}

	out, _ := json.MarshalIndent(reports, "", "  ")
	fmt.Println(string(out))
	for _, result := range reports {
		if len(result.Errors) > 0 {
			fmt.Fprintf(os.Stderr, "%s:\n  %s\n", result.Path, strings.Join(result.Errors, "\n  "))
		}
	}
	if failed {
		os.Exit(1)
	}
}
