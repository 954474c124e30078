package main

import "testing"

func TestMarkdownText(t *testing.T) {
	tests := map[string]struct {
		got, want string
	}{
		"plain":                  {mdText("file templates/linux/a.pkr.hcl changed"), "file templates/linux/a.pkr.hcl changed"},
		"arrows stay":            {mdText("var vm_mem_size 2048 -> 4096"), `var vm\_mem\_size 2048 -> 4096`},
		"markup":                 {mdText("*a* _b_ `c` [d](e) ~f~ $g$"), "\\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\~f\\~ \\$g\\$"},
		"html and entities":      {mdText(`<img src=x onerror=alert(1)> &amp;`), `\<img src=x onerror=alert(1)> \&amp;`},
		"cell border":            {mdText("a | b"), `a \| b`},
		"backslash":              {mdText(`C:\dir`), `C:\\dir`},
		"one line":               {mdText("first\r\nsecond"), "first second"},
		"leading quote":          {mdText("> quoted"), `\> quoted`},
		"leading heading":        {mdText("# heading"), `\# heading`},
		"leading list":           {mdText("- item"), `\- item`},
		"code":                   {mdCode("build.dev.linux"), "`build.dev.linux`"},
		"code with a backtick":   {mdCode("a`b"), "``a`b``"},
		"code edged by backtick": {mdCode("`a"), "`` `a ``"},
		"code on one line":       {mdCode("a\nb"), "`a b`"},
		"fence":                  {codeFence("x = 1\n"), "```"},
		"fence longer than body": {codeFence("x = \"````\"\n"), "`````"},
		"html text":              {htmlText(`a<b>&"c"`), "a&lt;b&gt;&amp;&quot;c&quot;"},
		"short enough":           {truncate("abcdef", 6), "abcdef"},
		"truncated":              {truncate("abcdefg", 6), "abcde…"},
		"truncated runes":        {truncate("ééééééé", 4), "ééé…"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
