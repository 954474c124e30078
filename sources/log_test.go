package sources

import "testing"

func TestMaskCredentials(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"password":           {"git ls-remote https://deploy:s3cret-token@git.example.com/t.git main", "git ls-remote https://deploy:(sensitive)@git.example.com/t.git main"},
		"token as user name": {"git clone https://ghp_abcdef123456@github.com/o/r.git", "git clone https://(sensitive)@github.com/o/r.git"},
		"ssh user kept":      {"git fetch ssh://git@git.example.com/t.git", "git fetch ssh://git@git.example.com/t.git"},
		"git+ssh user kept":  {"git fetch git+ssh://git@host/t.git", "git fetch git+ssh://git@host/t.git"},
		"scp-like untouched": {"git fetch git@github.com:o/r.git", "git fetch git@github.com:o/r.git"},
		"no credentials":     {"git fetch https://github.com/o/r.git", "git fetch https://github.com/o/r.git"},
		"quoted in an error": {"fatal: unable to access 'https://u:pw123456@h/r.git/': refused", "fatal: unable to access 'https://u:(sensitive)@h/r.git/': refused"},
		"two URLs":           {"https://a:b@h1/x https://c@h2/y", "https://a:(sensitive)@h1/x https://(sensitive)@h2/y"},
		"at in a path only":  {"https://h/r@v1.git", "https://h/r@v1.git"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := maskCredentials(tc.in); got != tc.want {
				t.Errorf("maskCredentials(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}
