package reports

import (
	"fmt"
	"html"
	"strings"
)

// Chart is a bar chart drawn server-side: one group of bars per label, one
// bar per series, an axis with a few values written by Format.
type Chart struct {
	Title  string
	Labels []string
	Series []Series
	Format func(v int64) string // writes an axis value (money for people)
}

// Series is one kind of bar, with one value per label.
type Series struct {
	Name   string
	Values []int64
}

var palette = []string{"#2f6f9f", "#e0913a", "#5a9e5a", "#b04a4a"}

// SVG draws c as a standalone SVG document: no script, no external asset,
// so a page can inline it or an <img> can load it. Negative values (a month
// with more refunded than received) go below the axis.
func (c Chart) SVG() []byte {
	const w, h, left, right, top, bottom = 720, 320, 90, 10, 40, 60
	format := c.Format
	if format == nil {
		format = func(v int64) string { return fmt.Sprint(v) }
	}
	var lo, hi int64
	for _, s := range c.Series {
		for _, v := range s.Values {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	y := func(v int64) float64 { return top + plotH*float64(hi-v)/float64(hi-lo) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="sans-serif" font-size="11">`,
		w, h, w, h, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`, left, html.EscapeString(c.Title))
	// Axis: five values from lo to hi, with light grid lines.
	for i := range 5 {
		v := lo + (hi-lo)*int64(i)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, left-6, y(v), html.EscapeString(format(v)))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333"/>`, left, w-right, y(0), y(0))
	n := max(len(c.Labels), 1)
	group := plotW / float64(n)
	bar := group * 0.8 / float64(max(len(c.Series), 1))
	for i, label := range c.Labels {
		x0 := float64(left) + group*float64(i) + group*0.1
		for j, s := range c.Series {
			if i >= len(s.Values) {
				continue
			}
			v := s.Values[i]
			top, bot := y(max(v, 0)), y(min(v, 0))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x0+bar*float64(j), top, bar*0.95, bot-top, palette[j%len(palette)],
				html.EscapeString(label), html.EscapeString(s.Name), html.EscapeString(format(v)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-40 %.1f %d)">%s</text>`,
			x0+group*0.4, h-bottom+14, x0+group*0.4, h-bottom+14, html.EscapeString(label))
	}
	for j, s := range c.Series {
		x := left + 160*j
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`,
			x, h-12, palette[j%len(palette)], x+14, h-3, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return []byte(b.String())
}
