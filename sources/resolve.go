package sources

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// RefKind is what a source's ref names.
type RefKind string

// The kinds of ref a source may follow.
const (
	KindBranch RefKind = "branch"
	KindTag    RefKind = "tag"
	KindCommit RefKind = "commit"
)

// Resolved is a ref resolved to a commit.
type Resolved struct {
	// Commit is the full commit hash, lower case. For a tag it is the commit
	// the tag points to (the peeled tag), never the tag object.
	Commit string
	// Kind says whether the ref was a branch, a tag or a commit.
	Kind RefKind
	// FullRef is the ref's full name (refs/heads/main, refs/tags/v1.0);
	// empty for a commit.
	FullRef string
}

// Resolve finds the commit that ref names in the repository at url, with git
// ls-remote. A branch gives its tip, a tag the commit it points to. A full
// commit hash is returned as it is, without contacting the remote (Sync checks
// that it exists). A short name that is both a branch and a tag is an error
// asking for refs/heads/NAME or refs/tags/NAME; an unknown ref, including an
// abbreviated commit, wraps ErrRefNotFound.
func (g *Git) Resolve(ctx context.Context, url, ref string) (Resolved, error) {
	if err := ValidateURL(url); err != nil {
		return Resolved{}, err
	}
	if err := ValidateRef(ref); err != nil {
		return Resolved{}, err
	}
	if IsFullCommit(ref) {
		return Resolved{Commit: strings.ToLower(ref), Kind: KindCommit}, nil
	}
	env, err := g.networkEnv(ctx, "")
	if err != nil {
		return Resolved{}, err
	}
	return g.lsRemote(ctx, "", env, url, ref)
}

// lsRemote resolves a validated branch or tag name at url by running git
// ls-remote in dir.
func (g *Git) lsRemote(ctx context.Context, dir string, env []string, url, ref string) (Resolved, error) {
	heads, tags := []string{"refs/heads/" + ref}, []string{"refs/tags/" + ref}
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		heads, tags = []string{ref}, nil
	case strings.HasPrefix(ref, "refs/tags/"):
		heads, tags = nil, []string{ref}
	}
	args := []string{"ls-remote", "--end-of-options", url}
	args = append(args, heads...)
	for _, t := range tags {
		args = append(args, t, t+"^{}")
	}
	out, err := g.run(ctx, dir, env, args...)
	if err != nil {
		return Resolved{}, fmt.Errorf("cannot list the refs of %s: %w; check the URL and that your git credentials or SSH keys give access to it", maskCredentials(url), err)
	}
	refs := parseLsRemote(out)
	var found []Resolved
	for _, h := range heads {
		if c, ok := refs[h]; ok {
			found = append(found, Resolved{Commit: c, Kind: KindBranch, FullRef: h})
		}
	}
	for _, t := range tags {
		c, ok := refs[t+"^{}"]
		if !ok {
			c, ok = refs[t]
		}
		if ok {
			found = append(found, Resolved{Commit: c, Kind: KindTag, FullRef: t})
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		hint := "give a branch, a tag or a full 40-character commit"
		if len(ref) >= 4 && len(ref) < 40 && isHex(ref) {
			hint = fmt.Sprintf("%q looks like an abbreviated commit: give the full 40-character commit", ref)
		}
		return Resolved{}, fmt.Errorf("%w: ref %s not found in %s; %s", ErrRefNotFound, ref, maskCredentials(url), hint)
	default:
		return Resolved{}, fmt.Errorf("ref %s is both a branch and a tag in %s; write refs/heads/%s or refs/tags/%s", ref, maskCredentials(url), ref, ref)
	}
}

// parseLsRemote maps ref names to lower-case object names from git
// ls-remote output ("<hash>\t<ref>" lines).
func parseLsRemote(out []byte) map[string]string {
	refs := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "\t")
		if !ok || !IsFullCommit(hash) {
			continue
		}
		refs[name] = strings.ToLower(hash)
	}
	return refs
}
