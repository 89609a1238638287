CREATE TABLE inventory (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	country VARCHAR NOT NULL, 
	content_hash VARCHAR NOT NULL, 
	source VARCHAR, 
	imported_at DATETIME NOT NULL, 
	organisation JSON NOT NULL, 
	origins JSON NOT NULL, 
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_inventory_name ON inventory (name);
CREATE TABLE client (
	pk INTEGER NOT NULL, 
	inventory_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	id VARCHAR NOT NULL, 
	name VARCHAR, 
	country VARCHAR NOT NULL, 
	spec JSON NOT NULL, 
	PRIMARY KEY (pk), 
	FOREIGN KEY(inventory_id) REFERENCES inventory (id)
);
CREATE INDEX ix_client_country ON client (country);
CREATE INDEX ix_client_id ON client (id);
CREATE INDEX ix_client_inventory_id ON client (inventory_id);
CREATE TABLE staff (
	pk INTEGER NOT NULL, 
	inventory_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	id VARCHAR NOT NULL, 
	country VARCHAR NOT NULL, 
	type VARCHAR NOT NULL, 
	spec JSON NOT NULL, 
	PRIMARY KEY (pk), 
	FOREIGN KEY(inventory_id) REFERENCES inventory (id)
);
CREATE INDEX ix_staff_country ON staff (country);
CREATE INDEX ix_staff_id ON staff (id);
CREATE INDEX ix_staff_inventory_id ON staff (inventory_id);
CREATE TABLE system (
	pk INTEGER NOT NULL, 
	inventory_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	id VARCHAR NOT NULL, 
	vendor VARCHAR NOT NULL, 
	vendor_country VARCHAR NOT NULL, 
	spec JSON NOT NULL, 
	PRIMARY KEY (pk), 
	FOREIGN KEY(inventory_id) REFERENCES inventory (id)
);
CREATE INDEX ix_system_id ON system (id);
CREATE INDEX ix_system_inventory_id ON system (inventory_id);
CREATE TABLE system_location (
	pk INTEGER NOT NULL, 
	inventory_id INTEGER NOT NULL, 
	system_id VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	recipient VARCHAR NOT NULL, 
	country VARCHAR NOT NULL, 
	PRIMARY KEY (pk), 
	FOREIGN KEY(inventory_id) REFERENCES inventory (id)
);
CREATE INDEX ix_system_location_country ON system_location (country);
CREATE INDEX ix_system_location_inventory_id ON system_location (inventory_id);
CREATE INDEX ix_system_location_system_id ON system_location (system_id);
