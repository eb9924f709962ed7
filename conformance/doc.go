// Package conformance runs scripted test cases against any MQTT broker over
// the network and reports, case by case and statement by statement, where it
// departs from MQTT 3.1.1 and 5.0, with the packets exchanged as evidence.
package conformance
