import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini ships no message texts ("Invalid input"); the English ones say what was expected and
// what arrived. Imported for its effect by every module that validates with zod/mini.
z.config(en());
