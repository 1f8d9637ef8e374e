SELECT id, sku, name, price, stock FROM items WHERE id = 4242;
SELECT id, name, price FROM items WHERE id BETWEEN 100 AND 109;
