module ledgertui/bench/postclient

go 1.22
