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
	cases := []struct {
		image, env string
		types      []string
		want       string
		explicit   bool
	}{
		{"linux", "dev", []string{"shell", "ansible"}, "ansible", false}, // inferred from the template
		{"linux", "dev", []string{"ansible-local", "puppet-masterless"}, "ansible", false},
		{"linux", "dev", []string{"puppet-server"}, "puppet", false},
		{"linux", "dev", []string{"shell", "powershell"}, "none", false}, // shell only: no stack
		{"linux", "dev", nil, "none", false},
		{"linux", "prod", []string{"ansible"}, "puppet", true}, // the environment's choice
		{"linux", "bare", []string{"ansible"}, "none", true},   // none: no stack at all
		{"windows", "prod", nil, "ansible", true},              // the image's own choice beats the environment's
		{"windows", "bare", nil, "ansible", true},
	}
	for _, tc := range cases {
		st := Choose(cfg, nil, cfg.Images[tc.image], tc.env, tc.types)
		if st.Name != tc.want || st.Explicit != tc.explicit {
			t.Errorf("Choose(%s, %s, %v) = %s (explicit %v), want %s (explicit %v)", tc.image, tc.env, tc.types, st.Name, st.Explicit, tc.want, tc.explicit)
		}
		// The test workspace has templates/ansible only: an inferred
		// puppet stack has no assets to read.
		wantAssets := tc.want == "ansible" || (tc.want == "puppet" && tc.explicit)
		if (st.Provisioner != nil) != wantAssets {
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
			l := Toggles(cfg, Choose(cfg, nil, cfg.Images["linux"], tc.env, []string{"ansible"}), tc.declared)
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
	none := func(string) bool { return false }
	img := cfg.Images["linux"]
	ansible := []string{"ansible"}
	if d := Check(cfg, nil, img, "dev", Choose(cfg, nil, img, "dev", ansible), img.Template, all, ansible); d.HasErrors() {
		t.Errorf("ansible with its playbook present: %v", d)
	}
	d := Check(cfg, nil, img, "prod", Choose(cfg, nil, img, "prod", ansible), img.Template, all, ansible)
	if !d.HasErrors() || d[0].Summary != "Missing puppet asset" || !strings.Contains(d[0].Detail, "templates/puppet/manifests/site.pp") {
		t.Errorf("puppet chosen without its manifest: %v, want an error naming templates/puppet/manifests/site.pp", d)
	}
	if d := Check(cfg, nil, img, "dev", Choose(cfg, nil, img, "dev", ansible), img.Template, none, ansible); len(d) != 0 {
		t.Errorf("an inferred stack needs no toggle: %v", d)
	}
	win := cfg.Images["windows"]
	d = Check(cfg, nil, win, "dev", Choose(cfg, nil, win, "dev", []string{"shell"}), win.Template, none, []string{"shell"})
	if !d.HasErrors() || d[0].Summary != "Template cannot run the chosen provisioning stack" || !strings.Contains(d[0].Detail, `"enable_ansible"`) {
		t.Errorf("chosen stack the template cannot run: %v", d)
	}
	if d := Check(cfg, nil, win, "dev", Choose(cfg, nil, win, "dev", ansible), win.Template, none, ansible); len(d) != 0 {
		t.Errorf("chosen stack the template has a provisioner for, without toggle: %v", d)
	}
	if d := Check(cfg, nil, img, "bare", Choose(cfg, nil, img, "bare", ansible), img.Template, nil, ansible); len(d) != 0 {
		t.Errorf("stack none needs nothing, got %v", d)
	}
	if dirs := AssetDirs(Choose(cfg, nil, img, "dev", ansible)); len(dirs) != 1 || dirs[0] != "templates/ansible" {
		t.Errorf("asset dirs %v", dirs)
	}
}

func TestChooseInferredWithoutAssets(t *testing.T) {
	cfg := load(t)
	img := cfg.Images["linux"]
	// Inferred puppet with hybrid's default settings, whose directory
	// does not exist: no assets, no error.
	st := Choose(cfg, nil, img, "dev", []string{"puppet-masterless"})
	if st.Name != "puppet" || st.Provisioner != nil {
		t.Fatalf("Choose = %+v, want puppet without assets", st)
	}
	if d := Check(cfg, nil, img, "dev", st, img.Template, nil, []string{"puppet-masterless"}); len(d) != 0 {
		t.Errorf("Check: %v", d)
	}
}
