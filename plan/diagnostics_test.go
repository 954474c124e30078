package plan_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/plan"
)

// writeFiles writes files (slash path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProblemsOncePerImage checks that a problem an image has in several
// environments is one diagnostic naming them, and that the layers a
// missing value was searched in are those of every environment.
func TestProblemsOncePerImage(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"hybrid.hcl": `
environment "dev" {}
environment "prod" {
  parent = environment.dev
}
environment "lab" {
  values = { vm_mem = 2048 }
}

image "ubuntu" {
  template    = "templates/linux"
  build       = "file.linux-ubuntu"
  provisioner = "none"
  values      = { vm_mem = "lots" }
}

image "rocky" {
  template     = "templates/linux"
  build        = "file.linux-rocky"
  provisioner  = "none"
  environments = [environment.dev, environment.lab]
  values       = { vm_name = "rocky", vm_mem = 1024 }
}
`,
		"templates/linux/linux.pkr.hcl": `
variable "vm_name" {
  type = string
}
variable "vm_mem" {
  type    = number
  default = 1024
}
source "file" "linux-ubuntu" {
  content = var.vm_name
  target  = "ubuntu.txt"
}
source "file" "linux-rocky" {
  content = var.vm_name
  target  = "rocky.txt"
}
build {
  sources = ["source.file.linux-ubuntu", "source.file.linux-rocky"]
}
`,
	})
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{Environ: []string{}})
	defer ws.Close()
	type shown struct{ Summary, Detail string }
	var got []shown
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			got = append(got, shown{d.Summary, d.Detail})
		}
	}
	want := []shown{
		{"Invalid value for template variable", `For image "ubuntu" in environments "dev", "lab" and "prod", variable "vm_mem" expects number, got string: a number is required (the value comes from image.ubuntu).`},
		{"No value for required template variable", `Template variable "vm_name" (declared without default at templates/linux/linux.pkr.hcl:2) has no value for image "ubuntu" in environments "dev", "lab" and "prod". Layers searched: environment.dev, environment.prod, environment.lab, image.ubuntu, provisioners. Set it in one of them, e.g. values = { vm_name = ... } in the image or environment block.`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong errors (-want +got):\n%s", diff)
	}
}
