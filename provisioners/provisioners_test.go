package provisioners

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/config"
)

func load(t *testing.T) *config.Config {
	t.Helper()
	cfg, diags := config.Load(hclparse.NewParser(), "testdata/ws", config.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

func TestChoose(t *testing.T) {
	cfg := load(t)
	cases := []struct{ image, env, want string }{
		{"linux", "dev", "ansible"},    // the default
		{"linux", "prod", "puppet"},    // the environment's choice
		{"linux", "bare", "none"},      // none: no stack at all
		{"windows", "prod", "ansible"}, // the image's own choice beats the environment's
		{"windows", "bare", "ansible"},
	}
	for _, tc := range cases {
		st := Choose(cfg, cfg.Images[tc.image], tc.env)
		if st.Name != tc.want {
			t.Errorf("Choose(%s, %s) = %s, want %s", tc.image, tc.env, st.Name, tc.want)
		}
		if (st.Provisioner == nil) != (tc.want == "none") {
			t.Errorf("Choose(%s, %s): provisioner %v for stack %s", tc.image, tc.env, st.Provisioner, st.Name)
		}
	}
}

func TestToggles(t *testing.T) {
	cfg := load(t)
	all := func(string) bool { return true }
	onlyAnsible := func(n string) bool { return n == "enable_ansible" }
	cases := []struct {
		name     string
		env      string
		declared func(string) bool
		want     map[string]cty.Value
	}{
		{"ansible", "dev", all, map[string]cty.Value{"enable_ansible": cty.True, "enable_puppet": cty.False}},
		{"puppet", "prod", all, map[string]cty.Value{"enable_ansible": cty.False, "enable_puppet": cty.True}},
		{"none", "bare", all, map[string]cty.Value{"enable_ansible": cty.False, "enable_puppet": cty.False}},
		{"undeclared left out", "dev", onlyAnsible, map[string]cty.Value{"enable_ansible": cty.True}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := Toggles(cfg, Choose(cfg, cfg.Images["linux"], tc.env), tc.declared)
			if l.Name != LayerName {
				t.Errorf("layer name %q", l.Name)
			}
			if diff := cmp.Diff(tc.want, l.Values, cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) })); diff != "" {
				t.Errorf("toggles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	cfg := load(t)
	all := func(string) bool { return true }
	img := cfg.Images["linux"]
	if d := Check(cfg, img, "dev", Choose(cfg, img, "dev"), img.Template, all); d.HasErrors() {
		t.Errorf("ansible with its playbook present: %v", d)
	}
	d := Check(cfg, img, "prod", Choose(cfg, img, "prod"), img.Template, all)
	if !d.HasErrors() || d[0].Summary != "Missing puppet asset" || !strings.Contains(d[0].Detail, "templates/puppet/manifests/site.pp") {
		t.Errorf("puppet without its manifest: %v, want an error naming templates/puppet/manifests/site.pp", d)
	}
	d = Check(cfg, img, "dev", Choose(cfg, img, "dev"), img.Template, func(string) bool { return false })
	if !d.HasErrors() || d[0].Summary != "Template does not declare the provisioner toggle" || !strings.Contains(d[0].Detail, `"enable_ansible"`) {
		t.Errorf("template without the toggle: %v", d)
	}
	if d := Check(cfg, img, "bare", Choose(cfg, img, "bare"), img.Template, nil); len(d) != 0 {
		t.Errorf("stack none needs nothing, got %v", d)
	}
	if dirs := AssetDirs(Choose(cfg, img, "dev")); len(dirs) != 1 || dirs[0] != "templates/ansible" {
		t.Errorf("asset dirs %v", dirs)
	}
}
