-- The demo backend's "orders" database (scripts/stack.sh loads it as
-- root over the Unix socket before the backend starts).
CREATE DATABASE orders;
USE orders;
CREATE TABLE items (
	id INT UNSIGNED PRIMARY KEY,
	name VARCHAR(64) NOT NULL,
	price DECIMAL(10, 2) NOT NULL
) DEFAULT CHARSET = utf8mb4;
CREATE TABLE orders (
	id INT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
	item_id INT UNSIGNED NOT NULL,
	qty INT UNSIGNED NOT NULL,
	created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) DEFAULT CHARSET = utf8mb4;
INSERT INTO items (id, name, price) VALUES
	(1, 'widget', 9.99), (2, 'gadget', 199.00), (3, 'gizmo', 4.55),
	(4, 'sprocket', 3.00), (5, 'doohickey', 12.50), (6, 'thingamajig', 7.25),
	(7, 'whatsit', 0.99), (8, 'flux capacitor', 1210.00);
