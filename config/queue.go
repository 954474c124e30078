package config

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
)

// DefaultQueue is the job queue of a build whose image and environment name
// none.
const DefaultQueue = "default"

// queuePattern is what a job queue name may be: lowercase letters and
// digits, words joined by one "_" or "-" (River's rule), at most 64
// characters.
var queuePattern = regexp.MustCompile(`^[a-z0-9]+(?:[_-][a-z0-9]+)*$`)

// ValidQueueName reports whether name can name a job queue.
func ValidQueueName(name string) bool {
	return len(name) <= 64 && queuePattern.MatchString(name)
}

// evalQueue evaluates an optional queue attribute: "" when absent.
func evalQueue(expr hcl.Expression, ctx *hcl.EvalContext) (string, hcl.Diagnostics) {
	q, diags := evalString(expr, ctx, "queue", "")
	if diags.HasErrors() || q == "" && isNull(expr) {
		return "", diags
	}
	if !ValidQueueName(q) {
		return "", append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid queue name",
			Detail:   fmt.Sprintf("queue is %q; a queue name is lowercase letters and digits, words joined by one \"_\" or \"-\", at most 64 characters, such as \"windows\" or \"vsphere-dc1\".", q),
			Subject:  expr.Range().Ptr(),
		})
	}
	return q, diags
}

// QueueOf is the job queue of image img's builds in environment env: the
// image's own queue, else the environment's or its nearest ancestor's,
// else DefaultQueue.
func (c *Config) QueueOf(img *Image, env string) string {
	if img != nil && img.Queue != "" {
		return img.Queue
	}
	seen := map[string]bool{}
	for e := c.Environments[env]; e != nil && !seen[e.Name]; {
		seen[e.Name] = true
		if e.Queue != "" {
			return e.Queue
		}
		if e.Parent == nil {
			break
		}
		e = c.Environments[e.Parent.Name]
	}
	return DefaultQueue
}
