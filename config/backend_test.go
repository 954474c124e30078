package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestBackendBlock(t *testing.T) {
	const secretURL = "postgres://hybrid:S3cret-pass-word@db.example:5432/state"
	tests := map[string]struct {
		src     string
		env     []string
		want    Backend
		wantErr string
	}{
		"default is local":    {src: "", want: Backend{Type: BackendLocal}},
		"environment alone":   {env: []string{PGConnEnv + "=" + secretURL}, want: Backend{Type: BackendPG, ConnStr: secretURL, SchemaName: DefaultSchemaName}},
		"explicit local":      {src: `backend "local" {}`, want: Backend{Type: BackendLocal}},
		"pg with conn_str":    {src: `backend "pg" { conn_str = "host=db user=h" }`, want: Backend{Type: BackendPG, ConnStr: "host=db user=h", SchemaName: DefaultSchemaName}},
		"environment wins":    {src: "backend \"pg\" {\n conn_str = \"host=db\"\n schema_name = \"team_a\"\n}", env: []string{PGConnEnv + "=" + secretURL}, want: Backend{Type: BackendPG, ConnStr: secretURL, SchemaName: "team_a"}},
		"pg without conn":     {src: `backend "pg" {}`, wantErr: "No PostgreSQL connection string"},
		"unknown type":        {src: `backend "s3" {}`, wantErr: "Unknown backend"},
		"local with settings": {src: `backend "local" { conn_str = "x" }`, wantErr: "Unexpected backend setting"},
		"bad schema":          {src: "backend \"pg\" {\n conn_str = \"host=db\"\n schema_name = \"Drop;Table\"\n}", wantErr: "Invalid schema name"},
		"two backends":        {src: "backend \"pg\" { conn_str = \"host=db\" }\nbackend \"local\" {}", wantErr: "Duplicate backend block"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := "hybrid {\n" + tc.src + "\n}\n"
			env := append([]string{"PATH=/bin"}, tc.env...)
			c, diags := Parse(hclparse.NewParser(), t.TempDir(), []byte(src), Filename, Inputs{Environ: env})
			if tc.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.wantErr) {
					t.Fatalf("diagnostics %v, want %q", diags, tc.wantErr)
				}
				if strings.Contains(diags.Error(), "S3cret") {
					t.Errorf("a diagnostic shows the password: %v", diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(tc.want, c.Settings.Backend, cmpopts.IgnoreTypes(hcl.Range{})); diff != "" {
				t.Errorf("backend (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackendRedacted(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://hybrid:S3cret-pass-word@db:5432/state?sslmode=disable": "postgres://hybrid:%28sensitive%29@db:5432/state?sslmode=disable",
		"postgres://hybrid@db/state":                                       "postgres://hybrid@db/state",
		"host=db user=hybrid password=S3cret-pass-word dbname=state":       "host=db user=hybrid password=(sensitive) dbname=state",
		"host=db password='S3cret pass' dbname=state":                      "host=db password=(sensitive) dbname=state",
	} {
		if got := (Backend{ConnStr: in}).Redacted(); got != want {
			t.Errorf("Redacted(%q) = %q, want %q", in, got, want)
		}
	}
}
