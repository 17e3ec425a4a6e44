# SPDX-License-Identifier: MIT
# scripts/bench_wan.gp: the pictures of scripts/bench_wan.sh, from the data
# files wan.py plots writes.
# gnuplot -e "dir='D'; out='O'; sites='\"City\" 0, ...'; nsites=N" bench_wan.gp
set terminal pngcairo size 800,520 font ",10"

set output out."/bench-wan-cdf.png"
set title "Rescue latency with the local nameserver stopped"
set xlabel "lookup latency (ms, log scale)"
set ylabel "fraction of lookups"
set logscale x
set key bottom right
set grid
plot dir."/cdf-rescue.dat" using 1:2 with steps lw 2 title "rescue: one site's nameserver stopped", \
     dir."/ideal-rescue.dat" using 1:2 with steps lw 2 dt 2 title "ideal: RTT to the nearest healthy peer", \
     dir."/cdf-partial.dat" using 1:2 with steps lw 2 title "rescue: nameserver and half the site stopped", \
     dir."/ideal-partial.dat" using 1:2 with steps lw 1 dt 3 title "ideal for those"
unset logscale x

set output out."/bench-wan-neighbours.png"
set terminal pngcairo size 1200,560 font ",10"
set multiplot layout 1,2 title "Neighbours per node of the row site, by the neighbour's site"
unset grid
set xlabel "neighbour's site"
set ylabel "node's site"
eval "set xtics rotate by -45 (".sites.")"
eval "set ytics (".sites.")"
set xrange [-0.5:nsites - 0.5]
set yrange [nsites - 0.5:-0.5]
set cbrange [0:*]
set palette defined (0 "white", 1 "#fdd49e", 2 "#fc8d59", 4 "#b30000")
unset key
set title "chosen by codnsd (steady state)"
plot dir."/matrix.dat" using 1:2:3 with image, \
     dir."/matrix.dat" using 1:2:($3 > 0 ? sprintf("%.1f", $3) : "") with labels font ",8"
set title "RTT-optimal: the nearest peers under neighbor-rtt-max"
plot dir."/matrix-opt.dat" using 1:2:3 with image, \
     dir."/matrix-opt.dat" using 1:2:($3 > 0 ? sprintf("%.1f", $3) : "") with labels font ",8"
unset multiplot
set terminal pngcairo size 800,520 font ",10"

set output out."/bench-wan-rtt.png"
set title "Measured RTT against the truth after a fleet-wide simultaneous start"
set xtics norotate autofreq
set ytics autofreq
set autoscale xy
set xlabel "seconds since every codnsd started"
set ylabel "error (ms)"
set y2label "pairs within max(10 %, 2 ms)"
set y2range [0:1.05]
set y2tics
set grid
set key top right
plot dir."/rtt-err.dat" using 1:2 with lines lw 2 title "median error", \
     dir."/rtt-err.dat" using 1:3 with lines lw 2 title "p90 |error|", \
     dir."/rtt-err.dat" using 1:4 with lines lw 1 title "max |error|", \
     dir."/rtt-err.dat" using 1:5 axes x1y2 with lines lw 2 dt 2 title "fraction within"
