# IOPS against queue depth (4k randread, page cache) from bench/summarize.py's iops_vs_qd.dat;
# bench/run.sh runs it in the output directory.
set terminal pngcairo size 800,500 font ",10" noenhanced
set output "iops_vs_qd.png"
set title "4k randread, page-cached file: median IOPS against queue depth"
set xlabel "queue depth (iodepth)"
set ylabel "IOPS"
set logscale x 2
set xtics (1, 16, 64)
set xrange [0.8:80]
set yrange [0:*]
set format y "%.1s%c"
set grid
set key top left
set datafile missing "NaN"
plot "iops_vs_qd.dat" using 1:2 with linespoints lw 2 title "toyos (uring executor)", \
     "" using 1:3 with linespoints lw 2 title "toyos (threads executor)", \
     "" using 1:4 with linespoints lw 2 title "fio io_uring engine", \
     "" using 1:5 with linespoints lw 2 title "raw liburing loop"
