package conductor

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The conductor's own metrics (GET /metrics, behind the same TLS rules as the rest of its
// API): its cell's instances and the capacity of its compute hosts, read at scrape time, and
// the go and process collectors.

var (
	condInstances = prometheus.NewDesc("cellmap_conductor_instances", "Instances of the cell, by state (active, deleted).",
		[]string{"cell", "state"}, nil)
	condHosts    = prometheus.NewDesc("cellmap_conductor_compute_hosts", "Compute hosts of the cell.", []string{"cell"}, nil)
	condCapacity = prometheus.NewDesc("cellmap_conductor_capacity", "Capacity of the cell's enabled compute hosts, by resource (vcpus, ram_mb, disk_gb) and kind (total, used, free).",
		[]string{"cell", "resource", "kind"}, nil)
)

type conductorCollector struct{ c *Conductor }

func (cc conductorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- condInstances
	ch <- condHosts
	ch <- condCapacity
}

func (cc conductorCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cell := cc.c.cfg.CellUUID
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if st, err := cc.c.db.Stats(ctx); err == nil {
		gauge(condInstances, float64(st.Instances), cell, "active")
		gauge(condInstances, float64(st.DeletedInstances), cell, "deleted")
		gauge(condHosts, float64(st.ComputeHosts), cell)
	}
	hosts, err := cc.c.db.ComputeHosts(ctx, nil)
	if err != nil {
		return
	}
	var total, used [3]int64
	for _, h := range hosts {
		if h.Disabled {
			continue
		}
		total[0], total[1], total[2] = total[0]+h.VCPUs, total[1]+h.RAMMB, total[2]+h.DiskGB
		used[0], used[1], used[2] = used[0]+h.UsedVCPUs, used[1]+h.UsedRAMMB, used[2]+h.UsedDiskGB
	}
	for i, res := range []string{"vcpus", "ram_mb", "disk_gb"} {
		gauge(condCapacity, float64(total[i]), cell, res, "total")
		gauge(condCapacity, float64(used[i]), cell, res, "used")
		gauge(condCapacity, float64(total[i]-used[i]), cell, res, "free")
	}
}

// metricsHandler serves the conductor's registry.
func (c *Conductor) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), conductorCollector{c})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
