package thehive
