-- raw.sales is written only inside the transaction that creates its raw.files row, so the
-- foreign key added nothing but a per-row trigger check: it cost about half of COPY's time
-- on a 1,000,000-row file (docs/benchmarks.md). raw.sales_rejected keeps its key.
alter table raw.sales drop constraint if exists sales_file_id_fkey;
