#!/bin/bash
# Runs once after InfluxDB 2's setup: map db "learning" + rp "autogen" to the bucket.
set -e
bucket_id=$(influx bucket list --name "${DOCKER_INFLUXDB_INIT_BUCKET}" --hide-headers | awk '{print $1}')
influx v1 dbrp create --db learning --rp autogen --bucket-id "$bucket_id" --default
