package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The secret suite: sensitive values, fields of sensitive objects and
// values derived from them through can(), try(), conditionals, regex and
// for expressions, given to a real packer build that echoes them and
// fails. Afterwards every file under the workspace (state, plan files,
// rendered var files, logs, artifacts, caches) and all output of plan,
// apply (text and JSON), the plan's pull-request comment, show and state
// is searched for each secret in plain, base64 and URL-encoded form. The
// counts are logged so they can be quoted.

// suiteSecrets are the values of the secrets, each at least 8 characters.
var suiteSecrets = []string{"Pa55-object-field-9x", "root-user-object-7q", "Summer2024!-plain-var", "tok3n/with+chars=&"}

var secretFiles = map[string]string{
	"hybrid.hcl": `hybrid {
  packer_version = ">= 1.9.0"
}

variable "creds" {
  type      = object({ user = string, pass = string })
  sensitive = true
}

variable "password" {
  type      = string
  sensitive = true
}

variable "token" {
  type      = string
  sensitive = true
}

environment "dev" {}

image "linux-leaky" {
  template = "templates/linux"
  build    = "null.linux-leaky"
  values = {
    creds    = var.creds
    password = var.password
    # Laundering attempts: each is a secret too, whatever it looks like.
    starts_s  = can(regex("^S", var.password)) ? "yes" : "no"
    has_token = try(var.token, "none")
    letters   = join(",", [for c in split("", var.password) : c])
    user_len  = length(var.creds.user) > 3 ? "long" : "short"
  }
}
`,
	"templates/linux/linux.pkr.hcl": `variable "creds" {
  type = object({ user = string, pass = string })
}

variable "password" {
  type = string
}

variable "starts_s" {
  type = string
}

variable "has_token" {
  type = string
}

variable "letters" {
  type = string
}

variable "user_len" {
  type = string
}

source "null" "linux-leaky" {
  communicator = "none"
}

build {
  sources = ["source.null.linux-leaky"]

  provisioner "shell-local" {
    environment_vars = [
      "PASS=${var.creds.pass}",
      "USERNAME=${var.creds.user}",
      "PW=${var.password}",
      "TOKEN=${var.has_token}",
    ]
    inline = [
      "echo \"pass=$PASS user=$USERNAME pw=$PW token=$TOKEN\"",
      "echo \"pass=$PASS\" >&2",
      "echo \"b64=$(printf %s \"$PASS\" | base64)\"",
      "exit 1",
    ]
  }
}
`,
}

func TestSecretSuite(t *testing.T) {
	packerBin := requirePacker(t)
	t.Setenv("HYBRID_PACKER", packerBin)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	ws := filepath.Join(dir, "ws")
	writeTree(t, ws, secretFiles)
	t.Setenv("HYBRID_VAR_creds", fmt.Sprintf(`{ user = %q, pass = %q }`, suiteSecrets[1], suiteSecrets[0]))
	t.Setenv("HYBRID_VAR_password", suiteSecrets[2])
	t.Setenv("HYBRID_VAR_token", suiteSecrets[3])

	var out bytes.Buffer
	run := func(want int, args ...string) {
		t.Helper()
		code, o := runHybrid(t, ws, args...)
		fmt.Fprintf(&out, "$ hybrid %s (exit %d)\n%s\n", strings.Join(args, " "), code, o)
		if want >= 0 && code != want {
			t.Errorf("hybrid %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, o)
		}
	}
	run(0, "lock")
	run(0, "validate")
	run(0, "plan")
	run(0, "plan", "-json", "-out="+filepath.Join(ws, "saved.plan"))
	run(0, "plan", "-markdown")
	run(0, "show", "-markdown", filepath.Join(ws, "saved.plan"))
	run(0, "images", "-inputs")
	run(1, "apply", "-auto-approve")
	run(1, "apply", "-auto-approve", "-json")
	run(0, "show")
	run(0, "show", "-json")
	run(0, "state", "list")
	run(0, "state", "show", "build.dev.linux-leaky")
	run(2, "plan", "-detailed-exitcode")

	// The build really ran and failed: the test is not vacuous.
	if !strings.Contains(out.String(), "<sensitive>") && !strings.Contains(out.String(), "(sensitive)") {
		t.Errorf("no masked value in the output: did the build echo anything?\n%s", out.String())
	}
	if !strings.Contains(out.String(), "failed") {
		t.Errorf("the build did not fail as the template says:\n%s", out.String())
	}

	var forms []string
	for _, s := range suiteSecrets {
		forms = append(forms, s, base64.StdEncoding.EncodeToString([]byte(s)), url.QueryEscape(s), url.PathEscape(s))
	}
	hits, files := 0, 0
	check := func(where string, data []byte) {
		for _, f := range forms {
			if bytes.Contains(data, []byte(f)) {
				hits++
				t.Errorf("%s holds %q", where, f)
			}
		}
	}
	check("the output", out.Bytes())
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(dir, p)
		check(rel, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 8 {
		t.Errorf("only %d files under the workspace: the suite looked at too little", files)
	}
	t.Logf("secret suite: %d secrets in %d forms, %d files and the output of 14 commands searched, %d hits", len(suiteSecrets), len(forms), files, hits)
	if testing.Verbose() {
		t.Log(out.String())
	}
}
