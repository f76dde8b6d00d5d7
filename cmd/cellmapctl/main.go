// Command cellmapctl is the operator CLI of cellmap. Its cell_v2 commands mirror
// nova-manage cell_v2 (names, options and exit codes) so that operators keep their habits;
// the cluster, lookup, flavor and server groups cover the rest of the API. discover_hosts,
// map_instances, simple_cell_setup, verify_instance's codes 3 and 4, and the server group need
// the cells data plane.
//
//	cellmapctl cell_v2 simple_cell_setup --transport-url rabbit://...
//	cellmapctl cell_v2 map_cell0
//	cellmapctl cell_v2 create_cell --name cell1 --transport-url rabbit://... --database_connection mysql+pymysql://...
//	cellmapctl cell_v2 discover_hosts --verbose
//	cellmapctl --format json cell_v2 list_cells
//	cellmapctl lookup 6f1c...
//	cellmapctl server create --name vm1 --flavor m1 --image cirros --project p1 --user u1 --wait
//
//	cellmapctl tls ca create && cellmapctl tls cert create --node n1 --ip 10.0.0.1
//	cellmapctl --addr https://10.0.0.1:8480 --ca-cert cellmap-ca.pem cluster status
//
// --addr (CELLMAP_ADDR) names any node of the cluster (https:// with --ca-cert, CELLMAP_CACERT,
// and optionally --client-cert and --client-key); --base-transport-url and
// --base-database-connection play nova.conf's [DEFAULT]/transport_url and
// [database]/connection. Exit codes: each command's own (see its --help), 2 for a bad
// command line, 255 for an unexpected error.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}
