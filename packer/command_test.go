package packer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVersion(t *testing.T) {
	tests := map[string]struct {
		out     string
		want    string
		wantErr bool
	}{
		"release":     {out: "Packer v1.9.4\n", want: "1.9.4"},
		"prerelease":  {out: "Packer v1.10.0-dev\n", want: "1.10.0-dev"},
		"crlf":        {out: "Packer v1.9.4\r\n", want: "1.9.4"},
		"out of date": {out: "Packer v1.9.4\n\nYour version of Packer is out of date! The latest version\nis 1.11.2. You can update by downloading from www.packer.io/downloads\n", want: "1.9.4"},
		"not packer":  {out: "Terraform v1.5.7\non linux_amd64\n", wantErr: true},
		"empty":       {out: "", wantErr: true},
		"no patch":    {out: "Packer v1.9\n", wantErr: true},
		"extra words": {out: "Packer v1.9.4 (abc)\n", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseVersion(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseVersion error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseVersion(f *testing.F) {
	f.Add("Packer v1.9.4\n")
	f.Add("Packer v1.9.4\n\nYour version of Packer is out of date! The latest version\nis 1.11.2.")
	f.Fuzz(func(t *testing.T, out string) {
		v, err := parseVersion(out)
		if err == nil && (v == "" || !strings.Contains(out, "Packer v"+v)) {
			t.Fatalf("parseVersion(%q) = %q, not from the output", out, v)
		}
	})
}

func TestVersion(t *testing.T) {
	bin := packerBin(t)
	got, err := Version(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if got != "1.9.4" {
		t.Errorf("Version = %q, want the pinned 1.9.4", got)
	}
}

func TestVersionNotPacker(t *testing.T) {
	_, err := Version(context.Background(), filepath.Join(t.TempDir(), "missing"))
	if err == nil || !strings.Contains(err.Error(), "HYBRID_PACKER") {
		t.Fatalf("Version of a missing binary: error = %v, want a hint at HYBRID_PACKER", err)
	}
}

// copyDir copies the files of testdata directory src into a new temporary
// directory, so a test can point packer at it freely.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), string(data), 0o644)
	}
	return dst
}

func TestFmtCheck(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()

	formatted := copyDir(t, filepath.Join("testdata", "fmt", "formatted"))
	got, err := FmtCheck(ctx, bin, formatted)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("FmtCheck(formatted) = %q, want none", got)
	}

	unformatted := copyDir(t, filepath.Join("testdata", "fmt", "unformatted"))
	got, err = FmtCheck(ctx, bin, unformatted)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(unformatted, "messy.pkr.hcl")}, got); diff != "" {
		t.Errorf("wrong files (-want +got):\n%s", diff)
	}

	// The templates this package's tests build are formatted too.
	if got, err := FmtCheck(ctx, bin, templateDir(t, "build")); err != nil || len(got) != 0 {
		t.Errorf("FmtCheck(testdata/templates/build) = %q, %v", got, err)
	}

	_, err = FmtCheck(ctx, bin, filepath.Join(formatted, "missing"))
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Command != "fmt" || !strings.Contains(ce.Detail, "missing") {
		t.Errorf("FmtCheck(missing dir) error = %v, want a CommandError naming the directory", err)
	}
}

func TestFmtCheckDashDir(t *testing.T) {
	bin := packerBin(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, filepath.Join(dir, "-h", "messy.pkr.hcl"), "source \"null\" \"y\" {\ncommunicator   = \"none\"\n}\n", 0o644)
	got, err := FmtCheck(context.Background(), bin, "-h")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"-h/messy.pkr.hcl"}, got); diff != "" {
		t.Errorf("wrong files (-want +got):\n%s", diff)
	}
}

// TestFmt runs packer fmt in each mode on a directory with one messy
// template: -check reports it and changes nothing, -diff shows the change,
// and the plain run rewrites it so that a second check passes.
func TestFmt(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	messy := "source \"null\" \"y\" {\ncommunicator   = \"none\"\n}\n"
	tidy := "source \"null\" \"y\" {\n  communicator = \"none\"\n}\n"

	tests := map[string]struct {
		opts            FmtOptions
		wantUnformatted bool
		wantOutput      []string // substrings of packer's stdout
		wantFile        string
	}{
		"check":      {opts: FmtOptions{Check: true}, wantUnformatted: true, wantOutput: []string{"messy.pkr.hcl\n"}, wantFile: messy},
		"check diff": {opts: FmtOptions{Check: true, Diff: true}, wantUnformatted: true, wantOutput: []string{"messy.pkr.hcl\n", "-communicator   = \"none\"\n", "+  communicator = \"none\"\n"}, wantFile: messy},
		"write":      {opts: FmtOptions{}, wantOutput: []string{"messy.pkr.hcl\n"}, wantFile: tidy},
		"write diff": {opts: FmtOptions{Diff: true}, wantOutput: []string{"+  communicator = \"none\"\n"}, wantFile: tidy},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "messy.pkr.hcl")
			writeFile(t, file, messy, 0o644)
			res, err := Fmt(ctx, bin, dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Unformatted != tt.wantUnformatted {
				t.Errorf("Unformatted = %v, want %v", res.Unformatted, tt.wantUnformatted)
			}
			for _, want := range tt.wantOutput {
				if !strings.Contains(string(res.Output), want) {
					t.Errorf("output lacks %q:\n%s", want, res.Output)
				}
			}
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantFile, string(got)); diff != "" {
				t.Errorf("wrong file after fmt (-want +got):\n%s", diff)
			}
		})
	}

	// A template that does not parse is packer's error, not a result.
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "broken.pkr.hcl"), "source \"null\" {\n", 0o644)
	_, err := Fmt(ctx, bin, broken, FmtOptions{Check: true})
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Command != "fmt" || ce.ExitCode != 1 || !strings.Contains(ce.Detail, "broken.pkr.hcl") {
		t.Errorf("Fmt(broken) error = %v, want a CommandError naming the file", err)
	}
}

func TestValidate(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "base.pkrvars.hcl"), "greeting = \"base\"\n", 0o644)

	tests := map[string]struct {
		inv        Invocation
		wantErr    string
		wantOutput string
	}{
		"valid with the sensitive variable in the environment": {
			inv:        Invocation{Template: templateDir(t, "build"), Only: []string{"null.linux-a"}, VarFiles: []string{"base.pkrvars.hcl"}, Vars: map[string]string{"secret": "s3cr3t"}},
			wantOutput: "The configuration is valid.",
		},
		"missing variable": {
			inv:     Invocation{Template: templateDir(t, "build")},
			wantErr: "packer validate failed with exit status 1",
		},
		"invalid template": {
			inv:        Invocation{Template: templateDir(t, "invalid")},
			wantErr:    "Duplicate source block",
			wantOutput: "Duplicate source block",
		},
		"missing var file": {
			inv:     Invocation{Template: templateDir(t, "build"), VarFiles: []string{"nope.pkrvars.hcl"}, Vars: map[string]string{"secret": "s3cr3t"}},
			wantErr: "packer validate failed",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			inv := tt.inv
			inv.Bin = bin
			inv.WorkDir = work
			out, err := Validate(ctx, inv)
			if tt.wantErr != "" {
				var ce *CommandError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate error = %v, want a CommandError containing %q; output:\n%s", err, tt.wantErr, out)
				}
			} else if err != nil {
				t.Fatalf("Validate: %v; output:\n%s", err, out)
			}
			if !strings.Contains(out, tt.wantOutput) {
				t.Errorf("Validate output %q does not contain %q", out, tt.wantOutput)
			}
			for _, v := range inv.Vars {
				if strings.Contains(out, v) {
					t.Errorf("Validate output shows the sensitive value: %q", out)
				}
			}
		})
	}
}

func TestRelativeBinIsFromThisDirectory(t *testing.T) {
	bin := packerBin(t)
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cwd, bin)
	if err != nil || !strings.ContainsRune(rel, filepath.Separator) {
		t.Skipf("no relative path with a directory to %s", bin)
	}
	inv := Invocation{Bin: rel, WorkDir: t.TempDir(), Template: templateDir(t, "build"), Vars: map[string]string{"secret": "s3cr3t"}}
	if out, err := Validate(context.Background(), inv); err != nil {
		t.Fatalf("Validate with Bin %q in WorkDir %s: %v\n%s", rel, inv.WorkDir, err, out)
	}
}
