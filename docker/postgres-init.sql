-- One database per system, as the embedded demo makes them.
CREATE DATABASE lambda;
CREATE DATABASE accesslog;
CREATE DATABASE pipe;
CREATE DATABASE zengin;
CREATE DATABASE learning;
