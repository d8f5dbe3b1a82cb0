#!/bin/bash
trap 'echo stopping' TERM
java -jar /opt/app/app.jar
