import { zooRtlSuite } from './helpers/zoo-rtl.js';

zooRtlSuite('mlp');
