package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/plan"
)

// inputsFixture is the workspace of the images -inputs tests: a template
// that picks scripts per OS through a variable, reads files with file()
// and templatefile(), serves an http directory, has an ISO URL only a data
// source knows (widened), reads .git/HEAD and a path outside the
// workspace, and a derived image.
const inputsFixture = "testdata/inputs"

// runImages runs "hybrid images ARGS..." in the fixture workspace and
// returns its standard output; it fails the test on any other exit code
// than 0 or on anything written to standard error.
func runImages(t *testing.T, args ...string) []byte {
	t.Helper()
	t.Chdir(inputsFixture)
	var out, errOut bytes.Buffer
	code := (&imagesCommand{s: streams{Out: &out, Err: &errOut}}).Run(args)
	if code != 0 || errOut.Len() > 0 {
		t.Fatalf("hybrid images %s exited %d:\n%s", strings.Join(args, " "), code, errOut.String())
	}
	return out.Bytes()
}

// TestImagesInputsGolden compares "hybrid images -inputs" with
// testdata/golden/images_inputs.txt (go test -update rewrites it).
func TestImagesInputsGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "golden", "images_inputs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := runImages(t, "-inputs")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("images -inputs text (-want +got):\n%s", diff)
	}
}

// TestImagesInputsJSON decodes "hybrid images -inputs -json" and checks
// its shape and what it says of the builds, and that the inputs it lists
// are exactly those of the fingerprint plan computes.
func TestImagesInputsJSON(t *testing.T) {
	out := runImages(t, "-inputs", "-json")

	// Arrays are never null, whatever the build reads.
	var raw struct {
		FormatVersion string `json:"format_version"`
		Builds        []struct {
			Inputs []struct {
				Reads json.RawMessage `json:"reads"`
			} `json:"inputs"`
		} `json:"builds"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if raw.FormatVersion != "1.0" {
		t.Errorf("format_version %q, want 1.0", raw.FormatVersion)
	}
	for i, b := range raw.Builds {
		for j, in := range b.Inputs {
			if string(in.Reads) == "null" || len(in.Reads) == 0 {
				t.Errorf("builds[%d].inputs[%d].reads is %q, want an array", i, j, in.Reads)
			}
		}
	}

	var doc inputsDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	builds := map[string]buildInputs{}
	for _, b := range doc.Builds {
		addrs = append(addrs, b.Address)
		builds[b.Address] = b
	}
	wantAddrs := []string{"build.dev.linux-debian", "build.dev.linux-debian-app", "build.dev.linux-ubuntu", "build.prod.linux-debian"}
	if diff := cmp.Diff(wantAddrs, addrs); diff != "" {
		t.Fatalf("builds, in order (-want +got):\n%s", diff)
	}

	deb := builds["build.dev.linux-debian"]
	if diff := cmp.Diff(stackInfo{Name: "ansible", ChosenBy: "template", Assets: "templates/ansible",
		Note: "inferred from the template's provisioners"}, deb.Stack); diff != "" {
		t.Errorf("build.dev.linux-debian stack (-want +got):\n%s", diff)
	}
	if got := builds["build.prod.linux-debian"].Stack; !got.Explicit || got.ChosenBy != "environment prod" {
		t.Errorf("build.prod.linux-debian stack %+v, want chosen by environment prod", got)
	}
	if got := builds["build.dev.linux-debian-app"].Stack; !got.Explicit || got.ChosenBy != "image linux-debian-app" || got.Assets != "" {
		t.Errorf("build.dev.linux-debian-app stack %+v, want none, chosen by the image", got)
	}
	if deb.Template != "templates/linux" || deb.Build != "qemu.linux-debian" || deb.WorkingDir != "." {
		t.Errorf("build.dev.linux-debian: template %q build %q working dir %q", deb.Template, deb.Build, deb.WorkingDir)
	}

	find := func(b buildInputs, kind, subject string) *buildInput {
		for i, in := range b.Inputs {
			if in.Kind == kind && (in.Path == subject || in.Name == subject) {
				return &b.Inputs[i]
			}
		}
		t.Errorf("%s: no %s input %s", b.Address, kind, subject)
		return nil
	}
	tests := map[string]struct {
		build, kind, subject string
		want                 buildInput
	}{
		"script chosen by the OS variable": {"build.dev.linux-debian", kindRead, "templates/linux/scripts/debian.sh", buildInput{
			Kind: kindRead, Path: "templates/linux/scripts/debian.sh", Fingerprinted: true, FingerprintKey: "read:templates/linux/scripts/debian.sh",
			Reason: "the template reads it",
			Reads:  []inputRead{{What: `provisioner "shell" scripts`, File: "templates/linux/linux.pkr.hcl", Line: 40}},
		}},
		"the other OS's script": {"build.dev.linux-ubuntu", kindRead, "templates/linux/scripts/ubuntu.sh", buildInput{
			Kind: kindRead, Path: "templates/linux/scripts/ubuntu.sh", Fingerprinted: true, FingerprintKey: "read:templates/linux/scripts/ubuntu.sh",
			Reason: "the template reads it",
			Reads:  []inputRead{{What: `provisioner "shell" scripts`, File: "templates/linux/linux.pkr.hcl", Line: 40}},
		}},
		"file()": {"build.dev.linux-debian", kindRead, "templates/linux/data/motd.txt", buildInput{
			Kind: kindRead, Path: "templates/linux/data/motd.txt", Fingerprinted: true, FingerprintKey: "read:templates/linux/data/motd.txt",
			Reason: "the template reads it",
			Reads:  []inputRead{{What: "file() in local.motd", File: "templates/linux/linux.pkr.hcl", Line: 16}},
		}},
		"templatefile() answer file": {"build.dev.linux-debian", kindRead, "templates/linux/data/preseed.pkrtpl.hcl", buildInput{
			Kind: kindRead, Path: "templates/linux/data/preseed.pkrtpl.hcl", Fingerprinted: true, FingerprintKey: "read:templates/linux/data/preseed.pkrtpl.hcl",
			Reason: "the template reads it",
			Reads:  []inputRead{{What: "templatefile() in source.qemu.linux-debian cd_content", File: "templates/linux/linux.pkr.hcl", Line: 23}},
		}},
		"http_directory": {"build.dev.linux-debian", kindRead, "templates/linux/http", buildInput{
			Kind: kindRead, Path: "templates/linux/http", Directory: true, Fingerprinted: true, FingerprintKey: "read:templates/linux/http",
			Reason: "the template reads the whole directory",
			Reads:  []inputRead{{What: "source.qemu.linux-debian http_directory", File: "templates/linux/linux.pkr.hcl", Line: 22}},
		}},
		"unknown iso_url widens": {"build.dev.linux-debian", kindTemplateDir, "templates/linux", buildInput{
			Kind: kindTemplateDir, Path: "templates/linux", Directory: true, Fingerprinted: true, FingerprintKey: "template_dir",
			Reason: "an expression is not known before the build, so every file of the template directory is an input",
			Reads:  []inputRead{{What: "source.qemu.linux-debian iso_url is not known before the build", File: "templates/linux/linux.pkr.hcl", Line: 21}},
		}},
		"image inputs glob": {"build.dev.linux-debian", kindInputs, "files/debian/**", buildInput{
			Kind: kindInputs, Path: "files/debian/**", Fingerprinted: true, FingerprintKey: "inputs:files/debian/**",
			Reason: "the image lists it in inputs",
			Reads:  []inputRead{{What: "inputs of image linux-debian", File: "hybrid.hcl", Line: 29}},
		}},
		"stack assets": {"build.dev.linux-debian", kindProvisioner, "templates/ansible", buildInput{
			Kind: kindProvisioner, Path: "templates/ansible", Directory: true, Name: "ansible", Fingerprinted: true, FingerprintKey: "provisioner:ansible",
			Reason: "the assets of the ansible stack the build uses", Reads: []inputRead{},
		}},
		"rendered var file": {"build.prod.linux-debian", kindVarFile, "configs/prod/linux-debian.pkrvars.hcl", buildInput{
			Kind: kindVarFile, Path: "configs/prod/linux-debian.pkrvars.hcl", Fingerprinted: true, FingerprintKey: "var_file",
			Reason: "the var file hybrid renders for the build (render.prod.linux-debian)", Reads: []inputRead{},
		}},
		"git metadata outside a source": {"build.dev.linux-debian", kindGit, ".git/HEAD", buildInput{
			Kind: kindGit, Path: ".git/HEAD",
			Reason: "the template reads git metadata, but it is not inside a source: no commit is an input, and a commit rebuilds nothing",
			Reads:  []inputRead{{What: "file() in local.commit", File: "templates/linux/linux.pkr.hcl", Line: 17}},
		}},
		"outside the workspace": {"build.dev.linux-debian", kindUntracked, "/etc/ssl/certs/ca-certificates.crt", buildInput{
			Kind: kindUntracked, Path: "/etc/ssl/certs/ca-certificates.crt",
			Reason: "outside the workspace: hybrid cannot fingerprint it, so a change to it rebuilds nothing",
			Reads:  []inputRead{{What: `provisioner "file" source`, File: "templates/linux/linux.pkr.hcl", Line: 52}},
		}},
		"plugin": {"build.dev.linux-debian", kindPlugin, "github.com/hashicorp/qemu", buildInput{
			Kind: kindPlugin, Name: "github.com/hashicorp/qemu", Value: "1.1.0", Fingerprinted: true, FingerprintKey: "plugin:github.com/hashicorp/qemu",
			Reason: "the template requires it; the version hybrid.lock.hcl pins",
			Reads:  []inputRead{{What: "required_plugins qemu", File: "templates/linux/linux.pkr.hcl", Line: 3}},
		}},
		"base image": {"build.dev.linux-debian-app", kindUpstream, "build.dev.linux-debian", buildInput{
			Kind: kindUpstream, Name: "build.dev.linux-debian", Fingerprinted: true, FingerprintKey: "upstream:build.dev.linux-debian",
			Reason: "the image depends on linux-debian and is built from its artifact: a rebuild of it rebuilds this one", Reads: []inputRead{},
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := find(builds[tt.build], tt.kind, tt.subject)
			if got == nil {
				return
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("wrong input (-want +got):\n%s", diff)
			}
		})
	}
	if in := find(builds["build.dev.linux-ubuntu"], kindRead, "isos/ubuntu-22.04.iso"); in != nil && in.Reads[0].What != "source.qemu.linux-ubuntu iso_url" {
		t.Errorf("the local ISO is read by %q", in.Reads[0].What)
	}
	for _, in := range builds["build.dev.linux-ubuntu"].Inputs {
		if in.Kind == kindTemplateDir || strings.HasSuffix(in.Path, "debian.sh") {
			t.Errorf("build.dev.linux-ubuntu lists %s %s, which only the debian build reads", in.Kind, in.Path)
		}
	}

	// What images -inputs lists is what plan fingerprints, key for key
	// (leaving out the fingerprint's format and build settings, which
	// the header of each build shows).
	ws, diags := plan.LoadWorkspace(".", config.Inputs{})
	defer ws.Close()
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := plan.Make(context.Background(), ws, plan.Options{Lock: ws.Lock, PackerVersion: ws.Lock.Packer.Version,
		Hasher: plan.NewHasherFor(ws.Files, nil)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, c := range p.Changes {
		if c.Type != plan.TypeBuild {
			continue
		}
		var want []string
		for k := range c.Inputs {
			if k != "format" && k != "settings" && k != "provisioner:none" {
				want = append(want, k)
			}
		}
		sort.Strings(want)
		seen := map[string]bool{}
		var got []string
		for _, in := range builds[c.Address].Inputs {
			if in.Fingerprinted && !seen[in.FingerprintKey] {
				seen[in.FingerprintKey] = true
				got = append(got, in.FingerprintKey)
			}
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: fingerprint keys listed (-plan +images):\n%s", c.Address, diff)
		}
	}
}

// TestImagesArgs checks the flags and the image filter of hybrid images.
func TestImagesArgs(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    *imagesArgs
		wantErr string
	}{
		"matrix":        {args: nil, want: &imagesArgs{}},
		"inputs json":   {args: []string{"-inputs", "-json"}, want: &imagesArgs{Inputs: true, JSON: true}},
		"envs":          {args: []string{"-env=dev", "-env", "prod"}, want: &imagesArgs{Envs: []string{"dev", "prod"}}},
		"image glob":    {args: []string{"-inputs", "linux-*"}, want: &imagesArgs{Inputs: true, Image: "linux-*"}},
		"options after": {args: []string{"linux-*", "-inputs", "-env=dev"}, want: &imagesArgs{Inputs: true, Image: "linux-*", Envs: []string{"dev"}}},
		"two images":    {args: []string{"a", "b"}, wantErr: `unexpected argument "b"`},
		"bad glob":      {args: []string{"linux-["}, wantErr: "not a valid image name or glob"},
		"unknown flag":  {args: []string{"-input"}, wantErr: "flag provided but not defined"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseImagesArgs(tt.args)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags[0].Detail, tt.wantErr) {
					t.Fatalf("diagnostics %v, want an error containing %q", diags, tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			got.Vars = config.Inputs{}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong arguments (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImagesSelect checks the -env and image filters, and that naming
// what does not exist is an error that lists what does.
func TestImagesSelect(t *testing.T) {
	ws, diags := plan.LoadWorkspace(inputsFixture, config.Inputs{})
	defer ws.Close()
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	tests := map[string]struct {
		envs    []string
		image   string
		want    []string
		wantErr string
	}{
		"all":           {want: []string{"build.dev.linux-debian", "build.dev.linux-debian-app", "build.dev.linux-ubuntu", "build.prod.linux-debian"}},
		"env":           {envs: []string{"prod"}, want: []string{"build.prod.linux-debian"}},
		"image":         {image: "linux-debian", want: []string{"build.dev.linux-debian", "build.prod.linux-debian"}},
		"glob and env":  {envs: []string{"dev"}, image: "linux-debian*", want: []string{"build.dev.linux-debian", "build.dev.linux-debian-app"}},
		"unknown env":   {envs: []string{"stage"}, wantErr: "Declared environments: dev, prod."},
		"unknown image": {image: "windows-*", wantErr: "Declared images: linux-debian, linux-debian-app, linux-ubuntu."},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			builds, diags := selectBuilds(ws, tt.envs, tt.image)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags[0].Detail, tt.wantErr) {
					t.Fatalf("diagnostics %v, want an error containing %q", diags, tt.wantErr)
				}
				return
			}
			var got []string
			for _, b := range builds {
				got = append(got, b.Address())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong builds (-want +got):\n%s", diff)
			}
		})
	}
}
