package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
)

// envDiag is a problem found checking one image in one environment. The
// same problem is usually found in every environment the image is built
// in (a value the image sets, a file its template lacks): such problems
// are reported once, naming the environments, not once per environment.
type envDiag struct {
	// key identifies the problem whatever the environment: envDiags with
	// equal keys are one problem.
	key string
	env string
	// layers are, for a problem that lists them, the layers of the
	// image's values searched in env; merged, each layer comes once, in
	// the order of the first environment that has it.
	layers []string
	// diag writes the diagnostic for the environments the problem was
	// found in, sorted, with the merged layers.
	diag func(envs, layers []string) *hcl.Diagnostic
}

// envPlaceholder stands for the environment in the key of a diagnostic
// written for one environment (perEnv).
const envPlaceholder = "\x00ENV\x00"

// perEnv wraps a diagnostic written for one environment, whose text names
// it as `environment "NAME"`, so that it merges with the same diagnostic
// of other environments.
func perEnv(d *hcl.Diagnostic, env string) envDiag {
	mention := envMention([]string{env})
	generic := *d
	generic.Summary = strings.ReplaceAll(d.Summary, mention, envPlaceholder)
	generic.Detail = strings.ReplaceAll(d.Detail, mention, envPlaceholder)
	return envDiag{
		key: config.DiagKey(&generic),
		env: env,
		diag: func(envs, _ []string) *hcl.Diagnostic {
			out := generic
			out.Summary = strings.ReplaceAll(generic.Summary, envPlaceholder, envMention(envs))
			out.Detail = strings.ReplaceAll(generic.Detail, envPlaceholder, envMention(envs))
			return &out
		},
	}
}

// mergeEnvDiags reports each problem once, in the order first found, with
// every environment it was found in.
func mergeEnvDiags(found []envDiag) hcl.Diagnostics {
	var order []string
	groups := map[string][]envDiag{}
	for _, f := range found {
		if _, ok := groups[f.key]; !ok {
			order = append(order, f.key)
		}
		groups[f.key] = append(groups[f.key], f)
	}
	var diags hcl.Diagnostics
	for _, k := range order {
		g := groups[k]
		var envs, layers []string
		for _, f := range g {
			envs = appendUnique(envs, f.env)
			layers = mergeOrdered(layers, f.layers)
		}
		slices.Sort(envs)
		diags = append(diags, g[0].diag(envs, layers))
	}
	return diags
}

// mergeOrdered adds to list the elements of more it lacks, each right
// after the element that precedes it in more, or, for the first, right
// before the first of its successors that list has: [a c] and [a b c]
// give [a b c]; [a c] and [b c] give [a b c].
func mergeOrdered(list, more []string) []string {
	for i, s := range more {
		if slices.Contains(list, s) {
			continue
		}
		at := len(list)
		if i > 0 {
			at = slices.Index(list, more[i-1]) + 1
		} else {
			for _, next := range more[1:] {
				if j := slices.Index(list, next); j >= 0 {
					at = j
					break
				}
			}
		}
		list = slices.Insert(list, at, s)
	}
	return list
}

// envMention names environments in a sentence: environment "dev",
// environments "dev" and "prod", environments "dev", "prod" and "stage".
func envMention(envs []string) string {
	quoted := make([]string, len(envs))
	for i, e := range envs {
		quoted[i] = fmt.Sprintf("%q", e)
	}
	if len(quoted) == 1 {
		return "environment " + quoted[0]
	}
	return "environments " + strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
}
