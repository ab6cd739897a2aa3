-- Masks what identifies a person before the snapshot is sealed (resource `source.after`):
-- customers' and employees' e-mail, phone, fax and street address. Names of cities and
-- countries stay (the sample app's reports group by them).
--
-- zdap then rewrites every table, drops the old row versions and the WAL (README "Masking
-- that leaves no trace"), so the replaced values are in no file of the snapshot.
UPDATE customer
   SET email = 'customer' || customer_id || '@example.com',
       phone = '+1 555 0100 ' || lpad(customer_id::text, 3, '0'),
       fax = NULL,
       address = customer_id || ' Example Street';
UPDATE employee
   SET email = 'employee' || employee_id || '@example.com',
       phone = '+1 555 0199 ' || lpad(employee_id::text, 3, '0'),
       fax = NULL,
       address = employee_id || ' Example Avenue';
