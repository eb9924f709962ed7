// Package reports turns conformance runs into the files people and CI read:
// a self-contained HTML report, JSON, JUnit XML, a matrix of several brokers
// and the difference between two runs of one broker.
package reports
