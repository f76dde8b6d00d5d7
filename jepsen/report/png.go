package report

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"sort"

	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
)

// Plot geometry.
const (
	plotW, plotH                    = 1400, 700
	marginL, marginR, marginT, marB = 80, 200, 74, 50
	minLatency                      = 1e5 // 100 us, bottom of the log axis
)

var (
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{200, 200, 200, 255}
	// opColors colour successful operations by kind; failures and unknown outcomes have
	// their own colours.
	opColors = map[string]color.RGBA{
		"read": {31, 119, 180, 255}, "stale-read": {120, 120, 120, 255}, "write": {44, 160, 44, 255},
		"cas": {148, 103, 189, 255}, "add": {23, 190, 207, 255}, "list": {140, 86, 75, 255},
		"create": {188, 189, 34, 255}, "delete": {227, 119, 194, 255},
	}
	failColor = color.RGBA{214, 39, 40, 255}
	infoColor = color.RGBA{255, 127, 14, 255}
	// faultPalette shades fault windows: one colour per nemesis of the catalog, in its order.
	faultPalette = []color.RGBA{
		{230, 25, 75, 255}, {60, 180, 75, 255}, {200, 160, 0, 255}, {0, 130, 200, 255},
		{245, 130, 48, 255}, {145, 30, 180, 255}, {70, 200, 200, 255}, {240, 50, 230, 255},
		{130, 170, 20, 255}, {250, 120, 150, 255}, {0, 128, 128, 255}, {150, 110, 230, 255},
		{170, 110, 40, 255}, {128, 0, 0, 255}, {90, 160, 120, 255}, {0, 0, 128, 255},
	}
)

// WriteLatencyPNG plots every client operation's latency over time (log scale) with fault
// windows shaded and labelled.
func WriteLatencyPNG(path string, events []history.Event) error {
	img := LatencyPlot(events)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// plot maps history times and latencies to pixels.
type plot struct {
	img          *image.RGBA
	faultNames   []string
	t1           float64 // ns at the right edge
	logLo, logHi float64
}

func (p *plot) x(t int64) int {
	return marginL + int(float64(t)/p.t1*float64(plotW-marginL-marginR))
}

func (p *plot) y(lat float64) int {
	if lat < minLatency {
		lat = minLatency
	}
	f := (math.Log10(lat) - p.logLo) / (p.logHi - p.logLo)
	return plotH - marB - int(f*float64(plotH-marginT-marB))
}

// LatencyPlot draws the latency plot.
func LatencyPlot(events []history.Event) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	ops := history.Ops(events)
	maxLat := 10e9
	for _, op := range ops {
		if l := float64(op.Latency()); l > maxLat {
			maxLat = l
		}
	}
	p := &plot{img: img, t1: math.Max(float64(history.Last(events)), 1e9), logLo: math.Log10(minLatency), logHi: math.Ceil(math.Log10(maxLat))}
	p.faults(history.Windows(events))
	sort.Strings(p.faultNames)
	p.episodes(events)
	p.axes()
	for _, op := range ops {
		p.point(op)
	}
	p.legend()
	drawText(img, marginL, 10, "cellmap-jepsen: operation latency over time (log scale), shaded: faults", 2, black)
	return img
}

func (p *plot) faults(ws []history.Window) {
	top, bottom := marginT, plotH-marB
	rows := make([]int, 4)
	seen := map[string]bool{}
	for _, w := range ws {
		if !seen[w.Name] {
			seen[w.Name] = true
			p.faultNames = append(p.faultNames, w.Name)
		}
		end := w.End
		if end < 0 {
			end = int64(p.t1)
		}
		c := faultColor(w.Name)
		x0, x1 := p.x(w.Start), p.x(end)
		if x1 <= x0 {
			x1 = x0 + 1
		}
		for x := x0; x <= x1; x++ {
			for y := top; y < bottom; y++ {
				blend(p.img, x, y, c, 0.16)
			}
		}
		if row := labelRow(rows, x0, x0+textWidth(w.Name, 2)); row >= 0 {
			drawText(p.img, x0+1, 26+row*11, w.Name, 2, c)
		}
	}
}

// labelRow picks the first label row whose last label ends left of x0 and marks it used up
// to x1; -1 when every row is taken there (the legend still names the colour).
func labelRow(rows []int, x0, x1 int) int {
	for i, end := range rows {
		if end < x0 {
			rows[i] = x1 + 4
			return i
		}
	}
	return -1
}

// episodes marks each episode's start with a dashed line and its number.
func (p *plot) episodes(events []history.Event) {
	for _, e := range events {
		if e.Kind != history.KindPhase || e.F != history.PhaseEpisodeStart {
			continue
		}
		x := p.x(e.Time)
		for y := marginT; y < plotH-marB; y += 4 {
			setPixel(p.img, x, y, black)
			setPixel(p.img, x, y+1, black)
		}
		drawText(p.img, x+3, plotH-marB-14, fmt.Sprintf("e%d", e.Episode), 2, black)
	}
}

func faultColor(name string) color.RGBA {
	for i, n := range nemesis.Names() {
		if n == name {
			return faultPalette[i%len(faultPalette)]
		}
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return faultPalette[h.Sum32()%uint32(len(faultPalette))]
}

func (p *plot) axes() {
	left, right, top, bottom := marginL, plotW-marginR, marginT, plotH-marB
	for x := left; x <= right; x++ {
		setPixel(p.img, x, bottom, black)
	}
	for y := top; y <= bottom; y++ {
		setPixel(p.img, left, y, black)
	}
	for e := p.logLo; e <= p.logHi; e++ {
		y := p.y(math.Pow(10, e))
		for x := left + 1; x <= right; x += 3 {
			setPixel(p.img, x, y, grey)
		}
		label := durationLabel(math.Pow(10, e))
		drawText(p.img, left-8-textWidth(label, 2), y-5, label, 2, black)
	}
	step := tickStep(p.t1 / 1e9)
	for s := 0.0; s*1e9 <= p.t1; s += step {
		x := p.x(int64(s * 1e9))
		for y := bottom; y < bottom+5; y++ {
			setPixel(p.img, x, y, black)
		}
		label := fmt.Sprintf("%gs", s)
		drawText(p.img, x-textWidth(label, 2)/2, bottom+9, label, 2, black)
	}
	drawText(p.img, (left+right)/2-40, plotH-16, "time since start", 2, black)
}

// tickStep picks a time axis step giving at most about 15 ticks.
func tickStep(seconds float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600} {
		if seconds/s <= 15 {
			return s
		}
	}
	return 7200
}

func durationLabel(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%gs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%gms", ns/1e6)
	}
	return fmt.Sprintf("%gus", ns/1e3)
}

func (p *plot) point(op history.Op) {
	c, ok := opColors[op.Invoke.F]
	if !ok {
		c = black
	}
	lat := float64(op.Latency())
	switch op.Outcome() {
	case history.KindFail:
		c = failColor
	case history.KindInfo:
		c = infoColor
		if lat < 0 {
			lat = math.Pow(10, p.logHi)
		}
	}
	x, y := p.x(op.Invoke.Time), p.y(lat)
	for dx := 0; dx < 2; dx++ {
		for dy := 0; dy < 2; dy++ {
			setPixel(p.img, x+dx, y+dy, c)
		}
	}
}

func (p *plot) legend() {
	x, y := plotW-marginR+15, marginT
	row := func(c color.RGBA, label string) {
		for dx := 0; dx < 8; dx++ {
			for dy := 0; dy < 8; dy++ {
				setPixel(p.img, x+dx, y+dy, c)
			}
		}
		drawText(p.img, x+14, y-1, label, 2, black)
		y += 16
	}
	for _, f := range []string{"read", "stale-read", "write", "cas", "add", "list", "create", "delete"} {
		row(opColors[f], f+" ok")
	}
	row(failColor, "fail")
	row(infoColor, "info (unknown)")
	y += 10
	drawText(p.img, x, y, "faults:", 2, black)
	y += 16
	for _, name := range p.faultNames {
		row(faultColor(name), name)
	}
}
