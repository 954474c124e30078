package sources

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	ctx := context.Background()
	tests := map[string]struct {
		ref  string
		want Resolved
	}{
		"branch":               {"main", Resolved{Commit: r.Main[2], Kind: KindBranch, FullRef: "refs/heads/main"}},
		"other branch":         {"feature", Resolved{Commit: r.Feature, Kind: KindBranch, FullRef: "refs/heads/feature"}},
		"full branch name":     {"refs/heads/main", Resolved{Commit: r.Main[2], Kind: KindBranch, FullRef: "refs/heads/main"}},
		"annotated tag peeled": {"v1.0", Resolved{Commit: r.Main[1], Kind: KindTag, FullRef: "refs/tags/v1.0"}},
		"lightweight tag":      {"light", Resolved{Commit: r.Main[0], Kind: KindTag, FullRef: "refs/tags/light"}},
		"full tag name":        {"refs/tags/v1.0", Resolved{Commit: r.Main[1], Kind: KindTag, FullRef: "refs/tags/v1.0"}},
		"branch of a dup name": {"refs/heads/dup", Resolved{Commit: r.Main[0], Kind: KindBranch, FullRef: "refs/heads/dup"}},
		"tag of a dup name":    {"refs/tags/dup", Resolved{Commit: r.Main[2], Kind: KindTag, FullRef: "refs/tags/dup"}},
		"commit":               {r.Feature, Resolved{Commit: r.Feature, Kind: KindCommit}},
		"commit upper case":    {strings.ToUpper(r.Main[0]), Resolved{Commit: r.Main[0], Kind: KindCommit}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := g.Resolve(ctx, r.URL, tc.ref)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.ref, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Resolve(%q): wrong result (-want +got):\n%s", tc.ref, diff)
			}
		})
	}
	if r.TagObject == r.Main[1] {
		t.Fatal("fixture: the annotated tag object must differ from its commit")
	}
}

func TestResolveCommitNeedsNoNetwork(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	commit := strings.Repeat("ab", 20)
	missing := filepath.Join(t.TempDir(), "no-such-repo.git")
	got, err := g.Resolve(context.Background(), missing, commit)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Resolved{Commit: commit, Kind: KindCommit}, got); diff != "" {
		t.Errorf("wrong result (-want +got):\n%s", diff)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	missing := filepath.Join(t.TempDir(), "no-such-repo.git")
	tests := map[string]struct {
		url, ref string
		is       error
		want     []string
	}{
		"unknown ref": {
			url: r.URL, ref: "nope", is: ErrRefNotFound,
			want: []string{"ref nope not found in " + r.URL, "give a branch, a tag or a full 40-character commit"},
		},
		"abbreviated commit": {
			url: r.URL, ref: r.Main[0][:7], is: ErrRefNotFound,
			want: []string{"not found", "abbreviated commit", "full 40-character commit"},
		},
		"full branch name of a tag": {
			url: r.URL, ref: "refs/heads/v1.0", is: ErrRefNotFound,
			want: []string{"not found"},
		},
		"ambiguous": {
			url: r.URL, ref: "dup",
			want: []string{"both a branch and a tag", "refs/heads/dup", "refs/tags/dup"},
		},
		"missing repository": {
			url: missing, ref: "main",
			want: []string{"cannot list the refs of " + missing, "credentials"},
		},
		"invalid ref": {url: r.URL, ref: "--output=x", is: ErrInvalid},
		"invalid url": {url: "ext::sh -c true", ref: "main", is: ErrInvalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := g.Resolve(context.Background(), tc.url, tc.ref)
			if err == nil {
				t.Fatalf("Resolve(%q, %q) succeeded, want an error", tc.url, tc.ref)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseLsRemote(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 40), strings.Repeat("B", 64)
	out := a + "\trefs/heads/main\n" + b + "\trefs/tags/v1^{}\nnot a line\n" + "xyz\trefs/heads/bad\n"
	want := map[string]string{"refs/heads/main": a, "refs/tags/v1^{}": strings.ToLower(b)}
	if diff := cmp.Diff(want, parseLsRemote([]byte(out))); diff != "" {
		t.Errorf("wrong result (-want +got):\n%s", diff)
	}
}

func FuzzParseLsRemote(f *testing.F) {
	f.Add([]byte(strings.Repeat("a", 40) + "\trefs/heads/main\n"))
	f.Add([]byte("\t\n\t\t\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		for name, hash := range parseLsRemote(out) {
			if !IsFullCommit(hash) || strings.ContainsRune(name, '\n') {
				t.Fatalf("parsed %q -> %q", name, hash)
			}
		}
	})
}
