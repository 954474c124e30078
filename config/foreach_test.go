package config

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// parseSrc parses hybrid.hcl source in an empty workspace.
func parseSrc(t *testing.T, src string, in Inputs) (*Config, *hclparse.Parser, hcl.Diagnostics) {
	t.Helper()
	p := hclparse.NewParser()
	cfg, diags := Parse(p, t.TempDir(), []byte(src), Filename, in)
	return cfg, p, diags
}

// imageSummary is what a for_each test compares of each decoded image.
type imageSummary struct {
	Block, Key            string
	Template, Only        string
	Values                map[string]string // ShowValue of each value
	DependsOn             []string
	Environments          []string
	DeclLine, ForEachLine int
}

func summarize(cfg *Config) map[string]imageSummary {
	out := map[string]imageSummary{}
	for name, img := range cfg.Images {
		s := imageSummary{
			Block: img.Block, Key: img.ForEachKey, Template: img.Template, Only: img.Only(),
			DependsOn: names(img.DependsOn), Environments: cfg.ImageEnvironments(img),
			DeclLine: img.DeclRange.Start.Line, ForEachLine: img.ForEachRange.Start.Line,
		}
		if len(img.Values) > 0 {
			s.Values = map[string]string{}
			for k, v := range img.Values {
				s.Values[k] = ShowValue(v)
			}
		}
		out[name] = s
	}
	return out
}

func TestImageForEach(t *testing.T) {
	cases := map[string]struct {
		src  string
		want map[string]imageSummary
	}{
		"map with object values": {
			src: `
image "linux-debian" {
  for_each   = { "11" = { iso = "debian-11.iso" }, "12" = { iso = "debian-12.iso" } }
  template   = "templates/debian"
  build      = "null.linux-debian-${each.key}"
  values     = { os_version = each.key, iso_file = each.value.iso }
}
`,
			want: map[string]imageSummary{
				"linux-debian-11": {Block: "linux-debian", Key: "11", Template: "templates/debian", Only: "null.linux-debian-11",
					Values:       map[string]string{"os_version": `"11"`, "iso_file": `"debian-11.iso"`},
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
				"linux-debian-12": {Block: "linux-debian", Key: "12", Template: "templates/debian", Only: "null.linux-debian-12",
					Values:       map[string]string{"os_version": `"12"`, "iso_file": `"debian-12.iso"`},
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
			},
		},
		"set of strings": {
			src: `
image "linux-debian" {
  for_each = toset(["12", "11"])
  template = "templates/debian/${each.value}"
  build    = "null.linux-debian"
}
`,
			want: map[string]imageSummary{
				"linux-debian-11": {Block: "linux-debian", Key: "11", Template: "templates/debian/11", Only: "null.linux-debian",
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
				"linux-debian-12": {Block: "linux-debian", Key: "12", Template: "templates/debian/12", Only: "null.linux-debian",
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
			},
		},
		"list of strings from a variable": {
			src: `
variable "versions" {
  type    = list(string)
  default = ["bookworm", "trixie"]
}

image "debian" {
  for_each = var.versions
  template = "templates/debian"
  build    = "null.linux-${each.key}"
}
`,
			want: map[string]imageSummary{
				"debian-bookworm": {Block: "debian", Key: "bookworm", Template: "templates/debian", Only: "null.linux-bookworm",
					Environments: []string{"default"}, DeclLine: 7, ForEachLine: 8},
				"debian-trixie": {Block: "debian", Key: "trixie", Template: "templates/debian", Only: "null.linux-trixie",
					Environments: []string{"default"}, DeclLine: 7, ForEachLine: 8},
			},
		},
		"object from a local, with environments per instance": {
			src: `
environment "dev" {}
environment "prod" {}

locals {
  releases = {
    jammy = { dir = "22-04-lts", envs = ["dev", "prod"], mem = 2048 }
    noble = { dir = "24-04-lts", envs = ["dev"], mem = 4096 }
  }
}

image "ubuntu" {
  for_each     = local.releases
  template     = "templates/ubuntu/${each.value.dir}"
  build        = "null.linux-ubuntu"
  environments = each.value.envs
  values       = { vm_mem = each.value.mem }
}
`,
			want: map[string]imageSummary{
				"ubuntu-jammy": {Block: "ubuntu", Key: "jammy", Template: "templates/ubuntu/22-04-lts", Only: "null.linux-ubuntu",
					Values: map[string]string{"vm_mem": "2048"}, Environments: []string{"dev", "prod"}, DeclLine: 12, ForEachLine: 13},
				"ubuntu-noble": {Block: "ubuntu", Key: "noble", Template: "templates/ubuntu/24-04-lts", Only: "null.linux-ubuntu",
					Values: map[string]string{"vm_mem": "4096"}, Environments: []string{"dev"}, DeclLine: 12, ForEachLine: 13},
			},
		},
		"sensitive map values stay sensitive": {
			src: `
variable "pw" {
  sensitive = true
  default   = "hunter2-secret"
}

image "win" {
  for_each = { core = { password = var.pw }, desktop = { password = "plain" } }
  template = "templates/windows"
  build    = "null.windows-${each.key}"
  values   = each.value
}
`,
			want: map[string]imageSummary{
				"win-core": {Block: "win", Key: "core", Template: "templates/windows", Only: "null.windows-core",
					Values: map[string]string{"password": "(sensitive value)"}, Environments: []string{"default"}, DeclLine: 7, ForEachLine: 8},
				"win-desktop": {Block: "win", Key: "desktop", Template: "templates/windows", Only: "null.windows-desktop",
					Values: map[string]string{"password": `"plain"`}, Environments: []string{"default"}, DeclLine: 7, ForEachLine: 8},
			},
		},
		"depends_on between instances by traversal and by string": {
			src: `
image "linux-base" {
  for_each = toset(["11", "12"])
  template = "templates/base"
  build    = "null.linux-base"
}

image "linux-app" {
  for_each   = toset(["11", "12"])
  template   = "templates/app"
  build      = "null.linux-app"
  depends_on = ["linux-base-${each.key}"]
}

image "linux-tools" {
  template   = "templates/tools"
  build      = "null.linux-tools"
  depends_on = [image.linux-base-12, image.linux-app-11]
}
`,
			want: map[string]imageSummary{
				"linux-base-11": {Block: "linux-base", Key: "11", Template: "templates/base", Only: "null.linux-base",
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
				"linux-base-12": {Block: "linux-base", Key: "12", Template: "templates/base", Only: "null.linux-base",
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
				"linux-app-11": {Block: "linux-app", Key: "11", Template: "templates/app", Only: "null.linux-app",
					DependsOn: []string{"linux-base-11"}, Environments: []string{"default"}, DeclLine: 8, ForEachLine: 9},
				"linux-app-12": {Block: "linux-app", Key: "12", Template: "templates/app", Only: "null.linux-app",
					DependsOn: []string{"linux-base-12"}, Environments: []string{"default"}, DeclLine: 8, ForEachLine: 9},
				"linux-tools": {Block: "linux-tools", Template: "templates/tools", Only: "null.linux-tools",
					DependsOn: []string{"linux-base-12", "linux-app-11"}, Environments: []string{"default"}, DeclLine: 15},
			},
		},
		"instances depend on each other": {
			src: `
image "os" {
  for_each   = { a = [], b = ["os-a"], c = ["os-a", "os-b"] }
  template   = "templates/os"
  build      = "null.linux-os"
  depends_on = each.value
}
`,
			want: map[string]imageSummary{
				"os-a": {Block: "os", Key: "a", Template: "templates/os", Only: "null.linux-os",
					Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
				"os-b": {Block: "os", Key: "b", Template: "templates/os", Only: "null.linux-os",
					DependsOn: []string{"os-a"}, Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
				"os-c": {Block: "os", Key: "c", Template: "templates/os", Only: "null.linux-os",
					DependsOn: []string{"os-a", "os-b"}, Environments: []string{"default"}, DeclLine: 2, ForEachLine: 3},
			},
		},
		"empty for_each gives no image": {
			src: `
image "none" {
  for_each = {}
  template = "templates/none"
  build    = "null.linux-none"
}

image "other" {
  for_each = toset([])
  template = "templates/none"
  build    = "null.linux-none"
}
`,
			want: map[string]imageSummary{},
		},
		"plain image next to for_each instances": {
			src: `
image "debian" {
  template = "templates/debian"
  build    = "null.linux-debian"
}

image "debian-slim" {
  for_each = toset(["12"])
  template = "templates/debian"
  build    = "null.linux-debian"
}
`,
			want: map[string]imageSummary{
				"debian": {Block: "debian", Template: "templates/debian", Only: "null.linux-debian",
					Environments: []string{"default"}, DeclLine: 2},
				"debian-slim-12": {Block: "debian-slim", Key: "12", Template: "templates/debian", Only: "null.linux-debian",
					Environments: []string{"default"}, DeclLine: 7, ForEachLine: 8},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, p, diags := parseSrc(t, tc.src, Inputs{})
			if diags.HasErrors() {
				var buf strings.Builder
				hcl.NewDiagnosticTextWriter(&buf, p.Files(), 100, false).WriteDiagnostics(diags)
				t.Fatalf("unexpected errors:\n%s", buf.String())
			}
			if diff := cmp.Diff(tc.want, summarize(cfg)); diff != "" {
				t.Errorf("wrong images (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImageForEachRender renders an instance: its own values are the image
// layer, under its own name.
func TestImageForEachRender(t *testing.T) {
	cfg, _, diags := parseSrc(t, `
image "linux-debian" {
  for_each = { "11" = { iso = "debian-11.iso" }, "12" = { iso = "debian-12.iso" } }
  template = "templates/debian"
  build    = "null.linux-debian"
  values   = { iso_file = each.value.iso }
}
`, Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r, diags := cfg.Render(cfg.Images["linux-debian-12"], DefaultEnvironment, nil, nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	type render struct {
		Path    string
		Origins map[string]string
		Value   string
	}
	got := render{r.Path, r.Origins, ShowValue(r.Values["iso_file"])}
	want := render{"configs/default/linux-debian-12.pkrvars.hcl", map[string]string{"iso_file": "image.linux-debian-12"}, `"debian-12.iso"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"linux-debian-11", "linux-debian-12"}, cfg.ImageInstances("linux-debian")); diff != "" {
		t.Errorf("ImageInstances (-want +got):\n%s", diff)
	}
}

// TestImageForEachDiagnostics checks that an error that depends on each is
// reported once per instance and says which, and that one that does not is
// reported once.
func TestImageForEachDiagnostics(t *testing.T) {
	type diag struct {
		Line    int
		Summary string
		Note    string // the instance note in Detail, "" when there is none
	}
	cases := map[string]struct {
		src  string
		want []diag
	}{
		"attribute missing from one value": {
			src: `
image "linux-debian" {
  for_each = { "11" = { iso = "debian-11.iso" }, "12" = {} }
  template = "templates/debian"
  build    = "null.linux-debian"
  values   = { iso_file = each.value.iso }
}
`,
			want: []diag{{6, "Unsupported attribute", `This is for image linux-debian-12 (each.key = "12").`}},
		},
		"error in every instance": {
			src: `
image "linux-debian" {
  for_each = toset(["11", "12"])
  template = "templates/debian"
  build    = "null linux ${each.key}"
}
`,
			want: []diag{
				{5, "Invalid build address", `This is for image linux-debian-11 (each.key = "11").`},
				{5, "Invalid build address", `This is for image linux-debian-12 (each.key = "12").`},
			},
		},
		"error that does not depend on each is reported once": {
			src: `
image "linux-debian" {
  for_each    = toset(["11", "12"])
  template    = "templates/debian/${each.key}"
  build       = "null.linux-debian"
  provisioner = "chef"
  depends_on  = [image.nope]
}
`,
			want: []diag{
				{6, "Unknown provisioner stack", ""},
				{7, "Reference to undeclared image", ""},
			},
		},
		"string reference built from each.key": {
			src: `
image "linux-base" {
  for_each = toset(["11"])
  template = "templates/base"
  build    = "null.linux-base"
}

image "linux-app" {
  for_each   = toset(["11", "12"])
  template   = "templates/app"
  build      = "null.linux-app"
  depends_on = ["linux-base-${each.key}"]
}
`,
			want: []diag{{12, "Reference to undeclared image", `This is for image linux-app-12 (each.key = "12").`}},
		},
		"cycle between instances": {
			src: `
image "os" {
  for_each   = { a = ["os-b"], b = ["os-a"] }
  template   = "templates/os"
  build      = "null.linux-os"
  depends_on = each.value
}
`,
			want: []diag{{6, "Cycle in image depends_on", ""}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, diags := parseSrc(t, tc.src, Inputs{})
			var got []diag
			for _, d := range diags {
				note := ""
				if i := strings.Index(d.Detail, "This is for image "); i >= 0 {
					note = d.Detail[i:]
				}
				got = append(got, diag{d.Subject.Start.Line, d.Summary, note})
			}
			sort.Slice(got, func(i, j int) bool {
				if got[i].Line != got[j].Line {
					return got[i].Line < got[j].Line
				}
				return got[i].Note < got[j].Note
			})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("wrong diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestForEachDocExamples parses the examples of docs/language.md's for_each
// section together, so the documentation stays true.
func TestForEachDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "language.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n### for_each\n")
	if !ok {
		t.Fatal("docs/language.md has no for_each section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	src := `
source "boxes" {
  url = "https://example.com/boxes.git"
}

var_group "common" {}
`
	for _, block := range strings.Split(section, "```hcl\n")[1:] {
		code, _, _ := strings.Cut(block, "```")
		src += "\n" + code
	}
	cfg, p, diags := parseSrc(t, src, Inputs{})
	if diags.HasErrors() {
		var buf strings.Builder
		hcl.NewDiagnosticTextWriter(&buf, p.Files(), 100, false).WriteDiagnostics(diags)
		t.Fatalf("unexpected errors:\n%s", buf.String())
	}
	want := []string{"debian-app-11", "debian-app-12", "debian-tools", "linux-debian-11", "linux-debian-12"}
	if diff := cmp.Diff(want, cfg.ImageNames()); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	got := map[string]string{}
	for _, name := range want {
		img := cfg.Images[name]
		got[name] = img.Template + " " + img.Only() + " " + strings.Join(names(img.DependsOn), ",")
	}
	wantImages := map[string]string{
		"linux-debian-11": "sources/boxes/debian virtualbox-iso.linux-debian-11 ",
		"linux-debian-12": "sources/boxes/debian virtualbox-iso.linux-debian-12 ",
		"debian-app-11":   "templates/app virtualbox-ovf.linux-debian-app linux-debian-11",
		"debian-app-12":   "templates/app virtualbox-ovf.linux-debian-app linux-debian-12",
		"debian-tools":    "templates/tools virtualbox-ovf.linux-debian-tools linux-debian-12",
	}
	if diff := cmp.Diff(wantImages, got); diff != "" {
		t.Errorf("decoded images (-want +got):\n%s", diff)
	}
}
