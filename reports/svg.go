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

// A chart's size, which the pages give its <img> so nothing moves as it
// loads.
const ChartWidth, ChartHeight = 720, 400

// labelRunes is as much of a label as fits under its bar, turned.
const labelRunes = 24

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

var palette = []string{"#2f6f9f", "#e0913a", "#5a9e5a", "#b04a4a"}

// SVG draws c as a standalone SVG document: no script, no external asset,
// so a page can inline it or an <img> can load it. Negative values (a month
// with more refunded than received) go below the axis.
func (c Chart) SVG() []byte {
	// The title, then the legend, above the plot; the labels, turned, in
	// the bottom margin, long enough for a name and its share.
	const w, h, left, right, top, bottom = ChartWidth, ChartHeight, 90, 10, 56, 110
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
			x0+group*0.4, h-bottom+14, x0+group*0.4, h-bottom+14, html.EscapeString(shorten(label, labelRunes)))
	}
	for j, s := range c.Series {
		x := left + 200*j
		fmt.Fprintf(&b, `<rect x="%d" y="30" width="10" height="10" fill="%s"/><text x="%d" y="39">%s</text>`,
			x, palette[j%len(palette)], x+14, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return []byte(b.String())
}
