// Package ci holds no code. Its directory holds the example pipelines that
// plan image changes on pull (merge) requests and apply them from the main
// branch, for GitHub Actions (github-actions/) and GitLab CI (gitlab/); see
// README.md. Its tests lint the GitHub Actions workflows with actionlint and
// check the GitLab pipeline's structure, so that an example that would fail
// on its platform fails "go test ./..." first.
package ci
