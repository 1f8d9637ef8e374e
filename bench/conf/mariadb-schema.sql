-- The table mysqlslap queries (bench/conf/mysqlslap.sql): 10,000 items.
CREATE DATABASE bench;
USE bench;
CREATE TABLE items (
	id INT PRIMARY KEY,
	sku CHAR(9) NOT NULL,
	name VARCHAR(64) NOT NULL,
	price DECIMAL(8, 2) NOT NULL,
	stock INT NOT NULL
);
INSERT INTO items
SELECT seq, CONCAT('SKU-', LPAD(seq, 5, '0')), CONCAT('item ', seq),
       seq % 500 + 0.99, seq % 1000
FROM seq_1_to_10000;
