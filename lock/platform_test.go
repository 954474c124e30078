package lock

import (
	"strings"
	"testing"
)

func TestCheckPlatform(t *testing.T) {
	tests := map[string]string{ // platform -> error substring, "" for valid
		"linux_amd64":   "",
		"darwin_arm64":  "",
		"windows_386":   "",
		"freebsd_arm":   "",
		"linux":         "not of the form OS_ARCH",
		"_amd64":        "not of the form OS_ARCH",
		"linux_":        "not of the form OS_ARCH",
		"linx_amd64":    `unknown operating system "linx"`,
		"linux_amd65":   `unknown architecture "amd65"`,
		"Linux_amd64":   `unknown operating system "Linux"`,
		"linux_amd64_2": `unknown architecture "amd64_2"`,
	}
	for p, want := range tests {
		err := CheckPlatform(p)
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckPlatform(%q) = %v, want nil", p, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckPlatform(%q) = %v, want an error with %q", p, err, want)
		}
	}
	if err := CheckPlatform(CurrentPlatform()); err != nil {
		t.Errorf("the current platform is refused: %v", err)
	}
}

func TestParsePluginFile(t *testing.T) {
	type want struct {
		version, protocol, platform string
		zip                         bool
	}
	tests := map[string]*want{ // nil: not a file of plugin "vsphere"
		"packer-plugin-vsphere_v1.2.1_x5.0_linux_amd64":           {"1.2.1", "x5.0", "linux_amd64", false},
		"packer-plugin-vsphere_v1.2.1_x5.0_windows_amd64.exe":     {"1.2.1", "x5.0", "windows_amd64", false},
		"packer-plugin-vsphere_v1.2.1_x5.0_darwin_arm64.zip":      {"1.2.1", "x5.0", "darwin_arm64", true},
		"packer-plugin-vsphere_v1.2.1_x5.0_windows_amd64.zip":     {"1.2.1", "x5.0", "windows_amd64", true},
		"packer-plugin-vsphere_v1.3.0-rc1_x5.0_linux_arm64":       {"1.3.0-rc1", "x5.0", "linux_arm64", false},
		"packer-plugin-vsphere_v1.2.1_x5.0_windows_amd64":         nil, // a Windows binary ends in .exe
		"packer-plugin-vsphere_v1.2.1_x5.0_linux_amd64.exe":       nil, // and only a Windows binary does
		"packer-plugin-vsphere_v1.2.1_x5.0_windows_amd64.exe.zip": nil,
		"packer-plugin-vsphere_v1.2.1_x5.0_linux_amd64_SHA256SUM": nil,
		"packer-plugin-vsphere_v1.2.1_SHA256SUMS":                 nil,
		"packer-plugin-vsphere_v1.2.1_linux_amd64":                nil, // no protocol
		"packer-plugin-vsphere_1.2.1_x5.0_linux_amd64":            nil, // no "v"
		"packer-plugin-vsphere_vbanana_x5.0_linux_amd64":          nil,
		"packer-plugin-ansible_v1.2.1_x5.0_linux_amd64":           nil,
		"packer-plugin-vsphere-extra_v1.2.1_x5.0_linux_amd64":     nil,
	}
	for name, w := range tests {
		pf, ok := parsePluginFile(name, "vsphere")
		if w == nil {
			if ok {
				t.Errorf("parsePluginFile(%q) accepted it: %+v", name, pf)
			}
			continue
		}
		got := want{pf.versionString, pf.protocol, pf.platform, pf.zip}
		if !ok || got != *w {
			t.Errorf("parsePluginFile(%q) = %+v, %v; want %+v", name, got, ok, *w)
		}
	}
}
