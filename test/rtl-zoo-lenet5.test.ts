import { zooRtlSuite } from './helpers/zoo-rtl.js';

zooRtlSuite('lenet5');
